// The parts of werift (WebRTC in TypeScript) that the web page's WHEP previews use.
//
// The build bundles this file into dist/vendor/werift.js, so the published package does not depend on
// werift: it depends on mediabunny, which brings @types/dom-webcodecs into every consumer (see
// mediabunny.ts), and on a dozen packages besides. Loaded on the first WHEP offer only. werift is MIT:
// its licence ships beside the bundle (dist/vendor/werift.LICENSE).
export { MediaStreamTrack, RTCDtlsTransport, RTCPeerConnection, RTCRtpCodecParameters } from 'werift';
