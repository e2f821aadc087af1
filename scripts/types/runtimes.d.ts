// Globals of the runtimes lib/web/ serves on, for the JavaScript type check of scripts/lint.sh
// (tsconfig.json): lib/web/ reaches Bun and Deno only through these, behind a runtime check.

declare var Bun: any;
declare var Deno: any;

declare module 'bun' {
  export type ServerWebSocket = any;
}
