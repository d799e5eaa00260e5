import { registerModule } from '../shared/http/register.js';

registerModule('verify-matcher');
