// The official socket.io-client against a running Jiayuan server, driven by
// tests/chat/test_live.py: node chat_client.mjs URL TOKEN CONVERSATION_ID
// Prints one JSON line: the refusal of a bad token, and the ack of a sent message.
import { io } from "socket.io-client";

const [url, token, conversation] = process.argv.slice(2);

function connect(auth) {
  return new Promise((resolve, reject) => {
    const socket = io(`${url}/chat`, { auth, transports: ["websocket"], reconnection: false });
    socket.on("connect", () => resolve(socket));
    socket.on("connect_error", (err) => { socket.close(); reject(err); });
  });
}

const result = {};
try {
  await connect({ token: "not-a-token" });
  result.refused = null;
} catch (err) {
  result.refused = err.data ?? { message: err.message };
}
const socket = await connect({ token });
result.ack = await socket.timeout(5000).emitWithAck("send", {
  conversation_id: Number(conversation),
  body: "来自 JavaScript 客户端",
});
socket.close();
console.log(JSON.stringify(result));
