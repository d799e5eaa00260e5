import { registerModule } from '../shared/http/register.js';

registerModule('age-estimator');
