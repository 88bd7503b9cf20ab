export { openSqliteFile, type SqliteOpenOptions } from "./open-sqlite-file.js";
