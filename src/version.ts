// foreman's version; the build replaces FOREMAN_COMMIT via --define.
import pkg from "../package.json";

declare const FOREMAN_COMMIT: string | undefined;

export const VERSION: string = pkg.version;
export const COMMIT: string = typeof FOREMAN_COMMIT === "string" ? FOREMAN_COMMIT : "dev";
