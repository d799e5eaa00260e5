/**
 * The functions-framework source: registers every function. A process builds (and loads models for)
 * only its FUNCTION_TARGET, so importing all of them costs nothing.
 *   npx functions-framework --source dist/functions/index.js --target face-detector-face-fitter
 */
import './face-detector-face-fitter.js';
import './face-detector-template-extractor.js';
import './verify-matcher.js';
import './body-detector.js';
import './age-estimator.js';
import './gender-estimator.js';
import './emotion-estimator.js';
import './mask-estimator.js';
import './quality-assessment-estimator.js';
import './face-detector-liveness-estimator.js';
import './liveness-anti-spoofing.js';
import './quality-liveness-anti-spoofing.js';
import './image-api.js';
