#!/usr/bin/env bash
# The README's API walkthrough with curl, runnable: log in as an existing admin, enroll two people from
# ../shared/data/faces, recognize two_people.jpg, read the attendance (JSON and CSV).
#   FACECROWD_URL   the server (default http://127.0.0.1:5000)
#   FACECROWD_USER  the admin's user name (default admin); the password is read from stdin
#   FACES           the faces folder (default ../shared/data/faces)
# The password and the token never appear on a command line: curl reads them from stdin and a 0600 file.
set -euo pipefail
URL=${FACECROWD_URL:-http://127.0.0.1:5000}
USER_NAME=${FACECROWD_USER:-admin}
FACES=${FACES:-../shared/data/faces}
IFS= read -r PASSWORD
AUTH=$(mktemp); chmod 600 "$AUTH"; trap 'rm -f "$AUTH"' EXIT

# 1. log in: {"token", "expiresAt"}
TOKEN=$(printf '{"username":"%s","password":"%s"}' "$USER_NAME" "$PASSWORD" |
  curl -sf -X POST "$URL/api/v1/auth/login" -H 'Content-Type: application/json' -d @- |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
printf 'Authorization: Bearer %s\n' "$TOKEN" > "$AUTH"

# 2. enroll two people (multipart: name, optional externalId, one or more photos)
curl -sf -H @"$AUTH" "$URL/api/v1/people" -F 'name=Barack Obama' -F externalId=P-0001 \
  -F photos=@"$FACES/identities/obama/obama.jpg" -F photos=@"$FACES/identities/obama/obama1.jpg"; echo
curl -sf -H @"$AUTH" "$URL/api/v1/people" -F 'name=Joe Biden' \
  -F photos=@"$FACES/identities/biden/biden.jpg" -F photos=@"$FACES/identities/biden/biden2.jpg"; echo

# 3. recognize a group photo: the recognised people by name and id, the unknown faces with boxes
curl -sf -H @"$AUTH" "$URL/api/v1/recognize" -F session=class-7A-2026-11-30 \
  -F photo=@"$FACES/groups/two_people.jpg"; echo

# 4. the attendance of the session, as JSON and as CSV
curl -sf -H @"$AUTH" "$URL/api/v1/attendance?session=class-7A-2026-11-30"; echo
curl -sf -H @"$AUTH" "$URL/api/v1/attendance/export?session=class-7A-2026-11-30"
