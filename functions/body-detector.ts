import { registerModule } from '../shared/http/register.js';

registerModule('body-detector');
