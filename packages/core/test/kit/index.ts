/*
 * Test kit for servers that speak HTTP on real sockets (exported as @gatehouse/core/testkit):
 * - raw-client.ts: RawClient (chosen bytes in chosen pieces, responses parsed minimally),
 *   parseResponses, exchange;
 * - server.ts: startServer (an InLoopServer or the SingleEngine on 127.0.0.1:0), testSettings;
 * - channels.ts: collect() diagnostics_channel messages;
 * - wait.ts: until(), a bounded poll for a condition with no event to wait on;
 * - requests.ts: gatewayRequest() and manualSource(), requests built in memory (no socket);
 * - parity.ts, listener-suite.ts, proxy-suite.ts, health-suite.ts, interim-suite.ts: suites every engine runs;
 *   upgrade-suite.ts: upgraded connections under engines that run the app off the socket's loop.
 * Other engines' tests and the parity suite build on these; keep them engine-neutral.
 */
export { RawClient, parseResponses, exchange, type RawResponse, type ParseOptions, type ParseResult, type ReadOptions } from './raw-client.js';
export { startServer, testSettings, type TestServer, type TestServerOptions } from './server.js';
export { collect, type Collector } from './channels.js';
export { until } from './wait.js';
export { gatewayRequest, manualSource, type TestRequestOptions } from './requests.js';
export { runParitySuite, engineStarter, expectationsFor, KNOWN_DIFFERENCES, type ParityServer, type ParityStarter, type ParityOptions, type ParityExpectations, type KnownDifference } from './parity.js';
export { makeCertificate, writeCertificate, type Certificate, type CertificateOptions } from './certs.js';
export { runListenerSuite, httpsGet, type HttpsResult } from './listener-suite.js';
export { runProxySuite } from './proxy-suite.js';
export { runHealthSuite, type HealthSuiteOptions } from './health-suite.js';
export { runStickySuite, type StickySuiteOptions } from './sticky-suite.js';
export { runUpgradeSuite, EchoClient, type UpgradeSuiteOptions } from './upgrade-suite.js';
export { runHttp2Suite, h2Request, type Http2SuiteOptions } from './http2-suite.js';
export { runInterimSuite } from './interim-suite.js';
export { runHttp2AttackSuite } from './http2-attack-suite.js';
export { H2Attacker, frame, hpack, hpackInteger, FRAME, FLAG, ERROR_CODE, SETTING, type Goaway } from './h2-attacker.js';
export { openPidSocket, type PidSocket } from './pid-socket.js';
