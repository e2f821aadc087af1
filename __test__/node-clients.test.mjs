// Real clients and real user code: Node's built-in WebSocket (Node 22+), and the quick start of
// DaloyJS's WebSocket page, run and type-checked with only its import lines changed.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { App } from '../index.js';
import { startServer, cleanup, eventLog, messageQueue, WebSocket as WsClient } from './fixtures/node-helpers.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const quickstart = fileURLToPath(new URL('./fixtures/node-seed-quickstart.mts', import.meta.url));
const T = { timeout: 30_000 };

describe("Node's built-in WebSocket client", () => {
  const skip = typeof globalThis.WebSocket === 'function' ? false : `Node ${process.version} has no global WebSocket (Node 22+)`;

  test('exchanges text and binary, selects its subprotocol and closes cleanly with its code', { ...T, skip }, async (t) => {
    const log = eventLog();
    const app = new App().ws('/echo', {
      beforeUpgrade(req, ctx) {
        return ctx.protocols.includes('echo.v1') ? 'echo.v1' : undefined;
      },
      message(conn, data, isBinary) {
        conn.send(data, { binary: isBinary });
      },
      close(conn, code, reason) {
        log.push('close', code, reason);
      },
    });
    const server = await startServer(t, app);
    const ws = new globalThis.WebSocket(`ws://127.0.0.1:${server.port}/echo`, ['other', 'echo.v1']);
    cleanup(t, () => ws.readyState === ws.OPEN && ws.close());
    ws.binaryType = 'arraybuffer';
    const next = messageQueue(ws);
    await once(ws, 'open');
    assert.equal(ws.protocol, 'echo.v1');
    assert.equal(ws.extensions, '');
    ws.send('grüße');
    assert.equal(await next(), 'grüße');
    ws.send(new Uint8Array([1, 2, 3, 250]));
    const binary = await next();
    assert.ok(binary instanceof ArrayBuffer);
    assert.deepEqual([...new Uint8Array(binary)], [1, 2, 3, 250]);
    const big = 'z'.repeat(100_000);
    ws.send(big);
    assert.equal(await next(), big);
    const closing = once(ws, 'close');
    ws.close(4000, 'bye');
    const [event] = await closing;
    assert.equal(event.code, 4000);
    assert.equal(event.reason, 'bye');
    assert.equal(event.wasClean, true);
    assert.deepEqual(await log.wait('close'), [4000, 'bye']);
  });
});

describe('the quick start of the seed page, imports pointed at this package', () => {
  test('type-checks under strict TypeScript against the package declarations', T, () => {
    const typo = fileURLToPath(new URL('./fixtures/node-seed-typo.mts', import.meta.url));
    const program = ts.createProgram([quickstart, typo], {
      strict: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      types: ['node'],
      typeRoots: [path.join(root, 'node_modules/@types')],
    });
    // Checks the package's declarations and the fixtures, not all of @types/node.
    const ours = program.getSourceFiles().filter((f) => !f.fileName.includes('/node_modules/'));
    assert.deepEqual(ours.map((f) => path.relative(root, f.fileName)).sort(), [
      '__test__/fixtures/node-seed-quickstart.mts',
      '__test__/fixtures/node-seed-typo.mts',
      'index.d.ts',
      'node.d.ts',
      'web.d.ts',
    ]);
    const problems = (file) =>
      [...program.getSyntacticDiagnostics(file), ...program.getSemanticDiagnostics(file)].map((d) =>
        ts.flattenDiagnosticMessageText(d.messageText, '\n'),
      );
    assert.deepEqual([...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics()], []);
    for (const file of ours) {
      if (file.fileName === typo) {
        const found = problems(file);
        assert.equal(found.length, 1, found.join('\n'));
        assert.match(found[0], /rooom/);
      } else {
        assert.deepEqual(problems(file), [], path.relative(root, file.fileName));
      }
    }
  });

  test('runs: welcomes the user, upper-cases text, echoes binary, and stops on SIGTERM', T, async (t) => {
    // The page's code is TypeScript: strip its types, then run it as a module that resolves
    // "daloy-ws-native" the way an application's node_modules would.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'daloy-quickstart-'));
    cleanup(t, () => fs.rmSync(dir, { recursive: true, force: true }));
    fs.mkdirSync(path.join(dir, 'node_modules'));
    fs.symlinkSync(root, path.join(dir, 'node_modules', 'daloy-ws-native'), 'dir');
    const source = fs.readFileSync(quickstart, 'utf8');
    const { outputText } = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    });
    fs.writeFileSync(path.join(dir, 'quickstart.mjs'), outputText);
    const preload = new URL('./fixtures/node-port-zero.mjs', import.meta.url).href;
    const proc = spawn(process.execPath, ['--import', preload, 'quickstart.mjs'], { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] });
    cleanup(t, () => proc.exitCode === null && proc.signalCode === null && proc.kill('SIGKILL'));
    let out = '';
    proc.stdout.setEncoding('utf8');
    const port = await new Promise((resolve, reject) => {
      proc.stdout.on('data', (chunk) => {
        out += chunk;
        const m = /port (\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      proc.once('exit', () => reject(new Error(`quick start exited: ${out}`)));
    });
    const exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));

    const ws = new WsClient(`ws://127.0.0.1:${port}/chat/lobby?user=ana`);
    cleanup(t, () => ws.terminate());
    const messages = [];
    const waiters = [];
    ws.on('message', (data, isBinary) => {
      const item = { text: isBinary ? null : data.toString(), bytes: isBinary ? [...data] : null };
      const waiter = waiters.shift();
      if (waiter) waiter(item);
      else messages.push(item);
    });
    const next = () => (messages.length > 0 ? Promise.resolve(messages.shift()) : new Promise((resolve) => waiters.push(resolve)));
    await once(ws, 'open');
    assert.deepEqual(await next(), { text: 'welcome ana', bytes: null });
    ws.send('hello, lobby');
    assert.deepEqual(await next(), { text: 'HELLO, LOBBY', bytes: null });
    ws.send(Buffer.from([7, 8, 9]));
    assert.deepEqual(await next(), { text: null, bytes: [7, 8, 9] });

    // serve() handles SIGTERM by default, as DaloyJS's does: connections get 1001, the process exits 0.
    const closed = once(ws, 'close');
    proc.kill('SIGTERM');
    assert.equal((await closed)[0], 1001);
    assert.deepEqual(await exited, { code: 0, signal: null });
  });
});
