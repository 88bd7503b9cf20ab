import { runCellctl } from "./cellctl-program.js";

process.exitCode = await runCellctl(process.argv, process.env);
