import { registerModule } from '../shared/http/register.js';

registerModule('mask-estimator');
