/**
 * The functions-framework source: registers every function. A process builds (and loads models for)
 * only its FUNCTION_TARGET, so importing all of them costs nothing.
 *   npx functions-framework --source dist/functions/index.js --target face-detector-face-fitter
 */
import './face-detector-face-fitter.js';
import './face-detector-template-extractor.js';
import './verify-matcher.js';
import './image-api.js';
