// Starts oauth2-mock-server on a random loopback port for tests/integration/interop_mock_server.rs.
// Prints one JSON line {"issuer": "..."} on stdout once listening; exits when stdin closes
// (the test ends or dies) or on SIGTERM/SIGINT.
import { OAuth2Server } from 'oauth2-mock-server';

const server = new OAuth2Server();
await server.issuer.keys.generate('RS256');
await server.start(0, '127.0.0.1');
const { port } = server.address();
// The package names itself http://localhost:PORT; use the address it really listens on.
server.issuer.url = `http://127.0.0.1:${port}`;

// A real client authenticates with HTTP Basic; name it in the token like a real server would.
server.service.on('beforeTokenSigning', (token, req) => {
  const auth = req.headers.authorization ?? '';
  if (auth.startsWith('Basic ')) {
    const decoded = Buffer.from(auth.slice(6), 'base64').toString('utf8');
    const clientId = decoded.split(':')[0];
    token.payload.client_id = clientId;
    token.payload.sub = clientId;
  }
});

const stop = async () => {
  try {
    await server.stop();
  } finally {
    process.exit(0);
  }
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();

console.log(JSON.stringify({ issuer: server.issuer.url }));
