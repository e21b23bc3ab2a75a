/*
 * Access-log lines from Gunicorn-style format strings: `%(h)s %(l)s %(u)s %(t)s "%(r)s" ...`.
 * The format is compiled once into a list of parts, so writing a line is a loop of string
 * concatenations; the timestamp is formatted at most once a second.
 */
import { GatehouseError, HeaderList, describeSource, type RequestEndMessage, type SettingSource } from '@gatehouse/core/app-runtime';

export const ACCESS_LOG_PRESETS: Readonly<Record<string, string>> = {
  combined: '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"',
  common: '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s',
};

/** The atoms, with the doc line docs/configuration.md shows. */
export const ACCESS_LOG_ATOMS: Readonly<Record<string, string>> = {
  h: 'remote address',
  l: '"-" (identd, for Apache compatibility)',
  u: 'user name: "-"',
  t: 'time the request ended, [10/Oct/2000:13:55:36 +0000]',
  r: 'request line: GET /path?query HTTP/1.1',
  m: 'request method',
  U: 'URL path without the query',
  q: 'query string',
  H: 'protocol: HTTP/1.1',
  s: 'status',
  B: 'response body length',
  b: 'response body length, "-" when 0 (CLF)',
  f: 'referer',
  a: 'user agent',
  T: 'request time in whole seconds',
  D: 'request time in microseconds',
  M: 'request time in milliseconds',
  L: 'request time in decimal seconds',
  p: 'process id of the process that ran the request; pid:thread when an app thread ran it (threaded, hybrid)',
  w: 'worker id: the unit that ran the request: its process number (prefork), thread number (threaded), process.thread (hybrid); 0 under single',
  E: 'engine name',
  '{name}i': 'request header "name"',
  '{name}o': 'response header "name"',
  '{name}e': 'environment variable "name"',
};

export interface AccessLogUnit {
  readonly engine: string;
  readonly pid: number;
  readonly unitId: number;
  readonly thread: boolean;
}

type Part = string | ((m: RequestEndMessage) => string);

const ATOM = /%\(([^)]+)\)s/g;

export function resolveFormat(format: string): string {
  return ACCESS_LOG_PRESETS[format] ?? format;
}

/** Throws ERR_SETTING_INVALID (naming the source) if the format has an unknown atom. */
export function checkAccessLogFormat(format: string, source: SettingSource): void {
  for (const match of resolveFormat(format).matchAll(ATOM)) {
    const atom = match[1]!;
    if (!(atom in ACCESS_LOG_ATOMS) && !/^\{[^}]+\}[ioe]$/.test(atom)) {
      throw new GatehouseError('ERR_SETTING_INVALID', `accessLogFormat = ${JSON.stringify(format)} from ${describeSource(source)}: unknown atom %(${atom})s; expected combined, common, or atoms among ${Object.keys(ACCESS_LOG_ATOMS).join(' ')}`);
    }
  }
}

export function compileAccessLogFormat(format: string, unit: AccessLogUnit): (m: RequestEndMessage) => string {
  const text = resolveFormat(format);
  const parts: Part[] = [];
  let last = 0;
  for (const match of text.matchAll(ATOM)) {
    if (match.index! > last) parts.push(text.slice(last, match.index));
    parts.push(atomFunction(match[1]!, unit));
    last = match.index! + match[0].length;
  }
  if (last < text.length) parts.push(text.slice(last));
  return (m) => {
    let line = '';
    for (const part of parts) line += typeof part === 'string' ? part : part(m);
    return line;
  };
}

const micros = (m: RequestEndMessage) => Number((m.endedAt - m.startedAt) / 1000n);

function atomFunction(atom: string, unit: AccessLogUnit): (m: RequestEndMessage) => string {
  const header = /^\{([^}]+)\}([ioe])$/.exec(atom);
  if (header) {
    const name = header[1]!.toLowerCase();
    if (header[2] === 'i') return (m) => escape(m.request.headers.get(name) ?? '-');
    if (header[2] === 'e') { const value = process.env[header[1]!] ?? '-'; return () => value; }
    return (m) => {
      if (!m.response?.headers) return '-';
      return escape(HeaderList.from(m.response.headers).get(name) ?? '-');
    };
  }
  // An app thread that ran the request comes with the request (m.unit); this process's own
  // unit is the rest of the identity: none for the master, the worker process under hybrid.
  const pid = unit.thread ? `${unit.pid}:${unit.unitId}` : String(unit.pid);
  const ownId = String(unit.unitId);
  const threadPid = (thread: number) => `${unit.pid}:${thread}`;
  const threadId = unit.unitId > 0 ? (thread: number) => `${unit.unitId}.${thread}` : String;
  switch (atom) {
    case 'h': return (m) => m.request.remote.address || '-';
    case 'l': case 'u': return () => '-';
    case 't': return () => clfTime();
    case 'r': return (m) => escape(`${m.request.method} ${m.request.target} HTTP/${m.request.httpVersion}`);
    case 'm': return (m) => m.request.method;
    case 'U': return (m) => escape(m.request.path);
    case 'q': return (m) => escape(m.request.query);
    case 'H': return (m) => `HTTP/${m.request.httpVersion}`;
    case 's': return (m) => String(m.status);
    case 'B': return (m) => String(m.bytes);
    case 'b': return (m) => (m.bytes > 0 ? String(m.bytes) : '-');
    case 'f': return (m) => escape(m.request.headers.get('referer') ?? '-');
    case 'a': return (m) => escape(m.request.headers.get('user-agent') ?? '-');
    case 'T': return (m) => String(Math.floor(micros(m) / 1e6));
    case 'D': return (m) => String(micros(m));
    case 'M': return (m) => String(Math.round(micros(m) / 1000));
    case 'L': return (m) => (micros(m) / 1e6).toFixed(6);
    case 'p': return (m) => (m.unit === undefined ? pid : threadPid(m.unit));
    case 'w': return (m) => (m.unit === undefined ? ownId : threadId(m.unit));
    case 'E': return () => unit.engine;
    default: return () => '-';
  }
}

/** Quotes and control characters are escaped so a client cannot forge or split a log line. */
// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPE = /["\\\x00-\x1f\x7f]/;
function escape(value: string): string {
  if (!NEEDS_ESCAPE.test(value)) return value;
  let out = '';
  for (const c of value) {
    const code = c.charCodeAt(0);
    if (c === '"' || c === '\\') out += `\\${c}`;
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += c;
  }
  return out;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
let cachedSecond = -1;
let cachedTime = '';

/** [10/Oct/2000:13:55:36 -0700], local time, as Apache and Gunicorn write it. */
export function clfTime(now: number = Date.now()): string {
  const second = Math.floor(now / 1000);
  if (second === cachedSecond) return cachedTime;
  const d = new Date(second * 1000);
  const offset = -d.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  const abs = Math.abs(offset);
  const two = (n: number) => String(n).padStart(2, '0');
  cachedTime = `[${two(d.getDate())}/${MONTHS[d.getMonth()]}/${d.getFullYear()}:${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())} ${sign}${two(Math.floor(abs / 60))}${two(abs % 60)}]`;
  cachedSecond = second;
  return cachedTime;
}
