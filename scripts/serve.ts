/**
 * `npm start`: every service of the values file in one process on PORT (default 8080), no cluster
 * needed. The same code runs each service alone as a Knative function (functions/main.ts).
 */
import { main } from '../functions/main.js';

void main('image-api');
