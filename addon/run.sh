#!/bin/sh
# Start the Porchlight edge service as the unprivileged user `porchlight`.
#
# It runs as root only long enough to hand /data and the media folder to that user and to
# give it the camera and GPIO devices the options name, through each device's own group
# (the host's group ids, which need not match the names inside the container). A device
# that only root may open (mode 0600 root:root, as some hosts give /dev/gpiochip*) leaves
# no other choice: the service then keeps root, and the log says which device and why.
#
# Footage, the index, the token and the settings are personal data: everything the service
# creates is private to it (umask 077: files 0600, folders 0700); Home Assistant reads /media
# as root. Files an older version left readable by others are made private here too.
set -eu
umask 077

OPTIONS=/data/options.json
SERVICE_USER=porchlight

# "media <dir>" and "device <node>" lines for what the options use.
wanted=$(python3 - "$OPTIONS" <<'PY'
import json
import sys

try:
    with open(sys.argv[1], encoding="utf-8") as handle:
        options = json.load(handle)
except (OSError, ValueError):
    options = {}
if not isinstance(options, dict):
    options = {}
if options.get("media_dir"):
    print("media", options["media_dir"])
for camera in options.get("cameras") or []:
    if isinstance(camera, dict) and camera.get("source") == "v4l2" and camera.get("device"):
        print("device", camera["device"])
button = options.get("button")
if isinstance(button, dict) and button.get("enabled", True):
    print("device", button.get("chip", "/dev/gpiochip0"))
PY
)

give_to_user() {
    # Only what is not the user's (or not private) yet: a large clip folder is not rewritten
    # on every start.
    find "$1" \( ! -user "$SERVICE_USER" -o ! -group "$SERVICE_USER" \) \
        -exec chown -h "$SERVICE_USER:$SERVICE_USER" {} +
    find "$1" ! -type l -perm /077 -exec chmod go-rwx {} +
}

needs_root=""
give_to_user /data
while read -r kind value; do
    case "$kind" in
    media)
        case "$value" in
        /media/*)
            mkdir -p "$value"
            give_to_user "$value"
            ;;
        *) echo "[porchlight] media_dir $value is not under /media: its owner is left alone" ;;
        esac
        ;;
    device)
        if [ ! -c "$value" ]; then
            echo "[porchlight] $value is not present in the add-on (is the hardware connected?)"
            continue
        fi
        gid=$(stat -c %g "$value")
        mode=$(stat -c %a "$value")
        group_rw=$(((0$mode >> 3) & 6))
        if [ "$gid" = 0 ] || [ "$group_rw" != 6 ]; then
            needs_root="$needs_root $value"
            continue
        fi
        group=$(awk -F: -v gid="$gid" '$3 == gid { print $1; exit }' /etc/group)
        if [ -z "$group" ]; then
            group="hostdev$gid"
            groupadd --system --gid "$gid" "$group"
        fi
        usermod --append --groups "$group" "$SERVICE_USER"
        ;;
    esac
done <<EOF_WANTED
$wanted
EOF_WANTED

if [ -n "$needs_root" ]; then
    echo "[porchlight] running as root: only root may open$needs_root on this system"
    exec python3 -m porchlight_edge
fi
# setpriv (util-linux): the user's uid, gid and groups (the device groups added above), and no
# way back to more privileges.
exec setpriv --reuid="$SERVICE_USER" --regid="$SERVICE_USER" --init-groups --no-new-privs \
    python3 -m porchlight_edge
