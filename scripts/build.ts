// Builds the single-file foreman executable(s) with `bun build --compile`.
//   bun scripts/build.ts          dist/foreman for this machine
//   bun scripts/build.ts --all    dist/foreman-{darwin-arm64,linux-x64,linux-arm64}
// Identifiers are NOT minified: Elysia reads handler source to see which context fields a handler
// uses, and renamed parameters break that. Whitespace and syntax minification are safe.
import { $ } from "bun";

const ALL: [target: string, file: string][] = [
  ["bun-darwin-arm64", "foreman-darwin-arm64"],
  ["bun-linux-x64", "foreman-linux-x64"],
  ["bun-linux-arm64", "foreman-linux-arm64"],
];

// FOREMAN_COMMIT wins (a Docker build has no .git); else git; else "unknown".
const commit = process.env.FOREMAN_COMMIT && process.env.FOREMAN_COMMIT !== "unknown"
  ? process.env.FOREMAN_COMMIT
  : (await $`git rev-parse --short HEAD`.quiet().nothrow()).stdout.toString().trim() || "unknown";
const targets: [string | null, string][] = process.argv.includes("--all") ? ALL : [[null, "foreman"]];

for (const [target, file] of targets) {
  const args = [
    "build", "--compile", "--minify-whitespace", "--minify-syntax", "--bytecode",
    "--no-compile-autoload-dotenv", "--no-compile-autoload-bunfig",
    "--define", `FOREMAN_COMMIT=${JSON.stringify(commit)}`,
    ...(target ? [`--target=${target}`] : []),
    "src/main.ts", "--outfile", `dist/${file}`,
  ];
  const proc = Bun.spawn([process.execPath, ...args], { stdout: "inherit", stderr: "inherit" });
  if ((await proc.exited) !== 0) process.exit(1);
  console.log(`built dist/${file} (${commit})`);
}
