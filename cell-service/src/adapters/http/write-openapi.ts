import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { openApiText } from "./openapi-document.js";

/** `npm run openapi`: rewrites docs/openapi.json from the route definitions. */
const target = fileURLToPath(new URL("../../../../docs/openapi.json", import.meta.url));
writeFileSync(target, openApiText());
console.log(`wrote ${target}`);
