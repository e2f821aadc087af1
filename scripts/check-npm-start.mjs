// `npm start` stopped with SIGTERM leaves no server running. npm forwards the signal to the shell
// that runs the script; the script execs node, so the echo server itself receives it and stops.
// Starts `npm start -- --port 0`, waits for the server, SIGTERMs npm, then requires the port to
// refuse connections and npm to have exited, within 10 s each.
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

// Its own process group, so that a failed check can still stop everything it started.
const npm = spawn('npm', ['start', '--silent', '--', '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
const fail = (message) => {
  console.error(`npm start: ${message}`);
  try {
    process.kill(-npm.pid, 'SIGKILL');
  } catch {
    // The group is already gone.
  }
  process.exit(1);
};
let output = '';
const port = await new Promise((resolve) => {
  const timer = setTimeout(() => resolve(undefined), 120_000);
  npm.stdout.on('data', (chunk) => {
    output += chunk;
    const match = /listening on ws:\/\/127\.0\.0\.1:(\d+)\//.exec(output);
    if (match) {
      clearTimeout(timer);
      resolve(Number(match[1]));
    }
  });
});
if (!port) {
  fail(`no server came up; output: ${output}`);
}
const accepts = () =>
  new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
if (!(await accepts())) fail(`the server on port ${port} refuses connections before SIGTERM`);

const exited = new Promise((resolve) => npm.once('exit', (code, signal) => resolve({ code, signal })));
npm.kill('SIGTERM');
const deadline = Date.now() + 10_000;
while ((await accepts()) && Date.now() < deadline) await sleep(100);
if (await accepts()) fail(`a server still accepts connections on port ${port} 10 s after npm got SIGTERM`);
const status = await Promise.race([exited, sleep(10_000).then(() => undefined)]);
if (!status) fail('npm did not exit within 10 s of SIGTERM');
console.log(`npm start: server on port ${port} stopped after SIGTERM to npm (npm exit ${status.code ?? status.signal})`);
