import { registerModule } from '../shared/http/register.js';

registerModule('quality-liveness-anti-spoofing');
