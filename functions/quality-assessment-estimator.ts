import { registerModule } from '../shared/http/register.js';

registerModule('quality-assessment-estimator');
