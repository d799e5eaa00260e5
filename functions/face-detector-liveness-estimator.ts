import { registerModule } from '../shared/http/register.js';

registerModule('face-detector-liveness-estimator');
