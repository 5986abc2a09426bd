import { namespaceFrom } from './config.js';

/**
 * @deprecated Only deploy/local/demo.ts still imports this, until it builds its HubConfig
 * (hubConfigFromEnvironment) once in main; everything else is given the namespace in its config.
 * Read at import, as it always was: import it nowhere else.
 */
export const NAMESPACE = namespaceFrom(process.env.HUB_NAMESPACE);
