# The article's WebSocket server, as printed plus the missing `import ssl`,
# and as it should be written. Debian's python3-websockets (10.4).
#
#   python3 snippet_server.py article|fixed CERTFILE KEYFILE
#
# article: ssl=ssl.SSLContext(...).load_cert_chain(...): load_cert_chain()
#          returns None, so the server gets ssl=None and serves plain ws://.
# fixed:   the context is built first and then passed: TLS with CERTFILE.
# Binds 127.0.0.1 on a free port (the article binds 0.0.0.0:3500) and prints
# "READY PORT" once it listens; runs until killed or stdin closes.
import asyncio
import ssl
import sys

import websockets

mode, cert_file, key_file = sys.argv[1:4]


async def handler(websocket, path):
    async for message in websocket:
        await websocket.send("Echo: " + message)


async def main():
    if mode == "article":
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(certfile=cert_file, keyfile=key_file)
    else:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(certfile=cert_file, keyfile=key_file)
    server = await websockets.serve(handler, host="127.0.0.1", port=0, ssl=tls)
    print("READY", server.sockets[0].getsockname()[1], flush=True)
    # Stop when the test closes our stdin (or dies), so nothing outlives it.
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)


asyncio.run(main())
