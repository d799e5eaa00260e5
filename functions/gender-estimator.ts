import { registerModule } from '../shared/http/register.js';

registerModule('gender-estimator');
