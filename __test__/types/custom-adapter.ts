// The seed page's custom-adapter import list, from the `/websocket` subpath, used the way an
// adapter uses them.
import {
  validateUpgrade,
  computeAcceptKey,
  FrameSink,
  encodeFrame,
  encodeSendPayload,
  encodeClosePayload,
  WS_OPCODE,
  WS_CLOSE_CODE,
  WS_READY_STATE,
} from 'daloy-ws-native/websocket';
import {
  FRAME_INCOMPLETE,
  parseFrame,
  decodeClosePayload,
  WebSocketProtocolError,
  WebSocketPayloadTooLargeError,
  computeAcceptKeySync,
  validateUpgradeSync,
  type HandshakeResult,
  type ParsedFrame,
  type MessageEvent,
  type FrameSinkEvents,
} from 'daloy-ws-native';

export async function upgrade(request: Request): Promise<string | null> {
  const result: HandshakeResult = await validateUpgrade(request.headers);
  if (!result.ok) return `${result.status} ${result.reason}`;
  const accept: string = result.acceptKey;
  const protocols: string[] = result.protocols;
  const again: string = await computeAcceptKey('dGhlIHNhbXBsZSBub25jZQ==');
  return accept === again ? protocols.join(',') : null;
}

export function fromNodeHeaders(headers: import('node:http').IncomingHttpHeaders): string | null {
  const result = validateUpgradeSync(headers);
  return result.ok ? result.acceptKey : computeAcceptKeySync(result.reason);
}

const events: FrameSinkEvents = {
  onMessage(ev: MessageEvent) {
    const out = encodeSendPayload(ev.data);
    encodeFrame({ opcode: out.opcode, payload: out.payload });
  },
  onPing(payload) {
    encodeFrame({ opcode: WS_OPCODE.PONG, payload });
  },
  onPong() {},
  onClose(code, reason) {
    encodeFrame({ opcode: WS_OPCODE.CLOSE, payload: encodeClosePayload(code === 1005 ? WS_CLOSE_CODE.NORMAL_CLOSURE : code, reason) });
  },
  onProtocolError(err) {
    const code: number = err instanceof WebSocketPayloadTooLargeError ? err.limit : err.closeCode;
    encodeFrame({ opcode: WS_OPCODE.CLOSE, payload: encodeClosePayload(code) });
  },
};

const sink = new FrameSink({ ...events, requireMask: true, maxPayloadLength: 1 << 20, maxFragments: 1024 });
sink.push(new Uint8Array(0));

const parsed = parseFrame(new Uint8Array(2), { requireMask: true, maxPayload: 10 });
if (parsed !== FRAME_INCOMPLETE) {
  const frame: ParsedFrame = parsed;
  decodeClosePayload(frame.payload);
}

const open: 1 = WS_READY_STATE.OPEN;
const text: 1 = WS_OPCODE.TEXT;
const err: Error = new WebSocketProtocolError('x');
void open;
void text;
void err;
