import { registerModule } from '../shared/http/register.js';

registerModule('emotion-estimator');
