-- wrk script: every request asks for its connection to close after the response, so each
-- request pays for a new connection (accept, the server's connection setup, the close).
wrk.headers["Connection"] = "close"
