import { ageGenderTask } from '../attributes.js';

/** Age MAE on the UTKFace chips through age-estimator. */
export default ageGenderTask('age');
