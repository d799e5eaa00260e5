import { registerAllInOne } from '../shared/http/register.js';

/** Every service of cfg/image-api.values.yaml (or IMAGE_API_VALUES) in one process, under /{service}. */
registerAllInOne();
