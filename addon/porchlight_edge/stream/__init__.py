"""The live stream HA opens from `Camera.stream_source()`: MPEG-TS over HTTP.

Why MPEG-TS over HTTP and not RTSP:
- HA's `stream` integration hands the URL to `av.open` (FFmpeg), which reads any
  URL FFmpeg does; it adds `rtsp_transport`/`rtsp_flags` only for `rtsp://` URLs
  (homeassistant/components/stream/__init__.py, `_convert_stream_options`), so an
  HTTP MPEG-TS URL needs no special options. HA's go2rtc (WebRTC) reads HTTP
  sources and autodetects `mpegts` in the body (go2rtc internal/http/README.md).
- Writing it takes PyAV's `mpegts` muxer (already the add-on's video library)
  and the add-on's aiohttp server (already its HTTP server, with its auth, caps
  and audit). An RTSP server would need GStreamer's rtsp-server or a hand-rolled
  RTSP/RTP stack (session state, RTP packetisation, RTCP, UDP ports): a large new
  attack surface and dependency for no gain in what HA can play.
- MPEG-TS carries H.264 (and later AAC) with in-band parameter sets, so readers
  can join at any keyframe and a size change continues in the same stream.

Modules: `credential` (the scoped stream secret), `hub` (per-camera fan-out of
compressed packets, one shared encoder when masked), `mpegts` (one viewer's
muxer), `http` (the route), `commands` (websocket commands).
"""
