// An agent on matrix-js-sdk with its Rust crypto (the SDK under Element Web, hence Tchap's web
// client), cross-signed and in "only devices signed by their owner" mode (MSC4153): it shares room
// keys only with cross-signed devices and flags any other sender. It opens an encrypted DM with
// the bot, asks one question and prints one JSON line describing the reply it got.
// Usage: node agent.mjs HS_URL USER PASSWORD BOT_MXID QUESTION
import * as sdk from "matrix-js-sdk";
import { logger } from "matrix-js-sdk/lib/logger.js";
import { OnlySignedDevicesIsolationMode } from "matrix-js-sdk/lib/crypto-api/index.js";

const [HS, USER, PW, BOT, QUESTION] = process.argv.slice(2);
logger.setLevel("error");
const fail = (why) => { console.log(JSON.stringify({ ok: false, error: why })); process.exit(1); };
setTimeout(() => fail("timeout"), 45000).unref();

const login = await sdk.createClient({ baseUrl: HS }).loginRequest({ type: "m.login.password",
  identifier: { type: "m.id.user", user: USER }, password: PW, initial_device_display_name: "element-web" });
const client = sdk.createClient({ baseUrl: HS, userId: login.user_id, deviceId: login.device_id,
  accessToken: login.access_token });
await client.initRustCrypto({ useIndexedDB: false });
const crypto = client.getCrypto();
await crypto.bootstrapCrossSigning({
  authUploadDeviceSigningKeys: async (makeRequest) => {
    await makeRequest({ type: "m.login.password", identifier: { type: "m.id.user", user: USER }, password: PW });
  },
});
crypto.setDeviceIsolationMode(new OnlySignedDevicesIsolationMode());

await new Promise((resolve) => {
  client.on(sdk.ClientEvent.Sync, (state) => { if (state === "PREPARED") resolve(); });
  client.startClient({ initialSyncLimit: 10 });
});

const { room_id: roomId } = await client.createRoom({
  is_direct: true, preset: sdk.Preset.TrustedPrivateChat, invite: [BOT],
  initial_state: [{ type: "m.room.encryption", state_key: "", content: { algorithm: "m.megolm.v1.aes-sha2" } }],
});
await new Promise((resolve) => {
  const check = () => { if (client.getRoom(roomId)?.getMember(BOT)?.membership === "join") resolve(); };
  client.on(sdk.RoomStateEvent.Members, check); check();
});

const reply = new Promise((resolve) => {
  client.on(sdk.RoomEvent.Timeline, async (event, room) => {
    if (room?.roomId !== roomId || event.getSender() !== BOT) return;
    await client.decryptEventIfNeeded(event);
    if (event.getType() === "m.room.message") resolve(event);
  });
});
const sent = await client.sendTextMessage(roomId, QUESTION);
const event = await reply;
const info = await crypto.getEncryptionInfoForEvent(event);
const botDevices = await crypto.getUserDeviceInfo([BOT], true);
const deviceId = event.getSender() && event.getWireContent().device_id;
const status = deviceId ? await crypto.getDeviceVerificationStatus(BOT, deviceId) : null;
console.log(JSON.stringify({
  ok: true, question: sent.event_id, encrypted: event.isEncrypted(), decryption_failure: event.isDecryptionFailure(),
  msgtype: event.getContent().msgtype, body: event.getContent().body,
  in_reply_to: event.getContent()["m.relates_to"]?.["m.in_reply_to"]?.event_id ?? null,
  shield_colour: info?.shieldColour ?? null, shield_reason: info?.shieldReason ?? null,
  bot_device_signed_by_owner: status?.signedByOwner ?? null, bot_devices: botDevices.get(BOT)?.size ?? 0,
}));
client.stopClient();
process.exit(0);
