import { ageGenderTask } from '../attributes.js';

/** Gender accuracy on the UTKFace chips through gender-estimator. */
export default ageGenderTask('gender');
