import { registerModule } from '../shared/http/register.js';

registerModule('liveness-anti-spoofing');
