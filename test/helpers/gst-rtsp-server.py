#!/usr/bin/python3
"""GStreamer's own RTSP server (gst-rtsp-server), a peer the RTSP client tests play from.

Serves an H.264 elementary stream or Matroska file (H.264, with --audio also AAC) at /test on 127.0.0.1, on
--port or a free port, which it prints as "PORT <n>" once it listens. With --auth digest or basic, only
--user/--password may play. With --session-timeout, sessions not kept alive expire after that many seconds.
A line "count" on stdin is answered with "SESSIONS <n>" on stdout: the sessions its session pool holds.
It exits when its stdin closes (the test process went away) or on SIGTERM/SIGINT.
"""
import argparse
import signal
import sys

import gi

gi.require_version('Gst', '1.0')
gi.require_version('GstRtsp', '1.0')
gi.require_version('GstRtspServer', '1.0')
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402

ROLE = 'viewer'


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--file', required=True)
    parser.add_argument('--auth', choices=['none', 'digest', 'basic'], default='none')
    parser.add_argument('--user', default='alice')
    parser.add_argument('--password', default='s3cret')
    parser.add_argument('--shared', action='store_true')
    # The file is Matroska with an AAC track too: serve both.
    parser.add_argument('--audio', action='store_true')
    parser.add_argument('--port', type=int, default=0)
    parser.add_argument('--session-timeout', type=int, default=0)
    args = parser.parse_args()

    Gst.init(None)
    loop = GLib.MainLoop()

    server = GstRtspServer.RTSPServer()
    server.set_address('127.0.0.1')
    server.set_service(str(args.port))

    factory = GstRtspServer.RTSPMediaFactory()
    location = args.file.replace('\\', '\\\\').replace('"', '\\"')
    # A bare elementary stream has no timestamps: GStreamer then sends it as fast as it reads it, every
    # frame with the same RTP timestamp. A Matroska file carries them, so it is paced and stamped.
    video = 'h264parse config-interval=-1 ! rtph264pay name=pay0 pt=96'
    if args.audio:
        launch = (
            f'filesrc location="{location}" ! matroskademux name=demux'
            f' demux.video_0 ! queue ! {video}'
            ' demux.audio_0 ! queue ! aacparse ! rtpmp4gpay name=pay1 pt=97'
        )
    elif args.file.endswith('.mkv'):
        launch = f'filesrc location="{location}" ! matroskademux ! {video}'
    else:
        launch = f'filesrc location="{location}" ! {video}'
    factory.set_launch(f'( {launch} )')
    factory.set_shared(args.shared)

    if args.auth != 'none':
        auth = GstRtspServer.RTSPAuth()
        token = GstRtspServer.RTSPToken()
        token.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, ROLE)
        if args.auth == 'digest':
            auth.set_supported_methods(GstRtsp.RTSPAuthMethod.DIGEST)
            auth.add_digest(args.user, args.password, token)
        else:
            auth.set_supported_methods(GstRtsp.RTSPAuthMethod.BASIC)
            auth.add_basic(GstRtspServer.RTSPAuth.make_basic(args.user, args.password), token)
        server.set_auth(auth)
        permissions = GstRtspServer.RTSPPermissions()
        permissions.add_permission_for_role(ROLE, GstRtspServer.RTSP_PERM_MEDIA_FACTORY_ACCESS, True)
        permissions.add_permission_for_role(ROLE, GstRtspServer.RTSP_PERM_MEDIA_FACTORY_CONSTRUCT, True)
        factory.set_permissions(permissions)

    server.get_mount_points().add_factory('/test', factory)

    pool = server.get_session_pool()
    if args.session_timeout > 0:
        def on_new_session(_client, session):
            session.set_timeout(args.session_timeout)

        server.connect('client-connected', lambda _server, client: client.connect('new-session', on_new_session))

        # The server does not expire sessions by itself: its owner runs the pool's cleanup.
        def cleanup():
            pool.cleanup()
            return GLib.SOURCE_CONTINUE

        GLib.timeout_add(250, cleanup)
    if server.attach(None) == 0:
        print('could not listen', file=sys.stderr)
        return 1

    def stop(*_):
        loop.quit()
        return GLib.SOURCE_REMOVE

    pending = bytearray()

    def on_stdin(_channel, condition):
        if condition & GLib.IOCondition.IN:
            data = sys.stdin.buffer.raw.read(4096)
            if not data:
                return stop()
            pending.extend(data)
            while b'\n' in pending:
                line, _, rest = bytes(pending).partition(b'\n')
                pending[:] = rest
                if line.strip() == b'count':
                    print(f'SESSIONS {pool.get_n_sessions()}', flush=True)
            return GLib.SOURCE_CONTINUE
        return stop()

    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, stop)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGINT, stop)
    GLib.io_add_watch(
        GLib.IOChannel.unix_new(sys.stdin.fileno()),
        GLib.PRIORITY_DEFAULT,
        GLib.IOCondition.IN | GLib.IOCondition.HUP | GLib.IOCondition.ERR,
        on_stdin,
    )

    print(f'PORT {server.get_bound_port()}', flush=True)
    loop.run()
    return 0


if __name__ == '__main__':
    sys.exit(main())
