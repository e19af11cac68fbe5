# Sourced before the README's commands (test/readme-examples.test.ts): `curl` becomes a function that
# calls the real one, keeps each answer's status and body by the line it was called from (in
# $CALLS/log), and gives the body on, so that the README's pipes work. It also keeps what later
# commands name as placeholders: the key an API-key answer shows, the subscription made, its first
# delivery. A live feed (-N) is read for five seconds. -q: no ~/.curlrc; --noproxy: the service is
# on this machine, whatever proxy the environment names.
curl() {
  local limit=() arg out body code file
  for arg in "$@"; do case "$arg" in -N | -sN) limit=(--max-time 5) ;; esac; done
  out=$(command curl -q --noproxy '*' "${limit[@]}" -w '\n%{http_code}' "$@")
  code=${out##*$'\n'}
  body=${out%$'\n'*}
  file=$(mktemp "$CALLS/body.XXXXXX")
  printf '%s' "$body" >"$file"
  printf '%s\t%s\t%s\n' "${BASH_LINENO[0]}" "$code" "$file" >>"$CALLS/log"
  case "$*" in
    */v1/api-keys*-d*) KEY=$(grep -o '"key":"[^"]*"' <<<"$body" | head -1 | cut -d'"' -f4) ;;
    */v1/subscriptions\ *-d*) SUBSCRIPTION=$(grep -o '"id":"[^"]*"' <<<"$body" | head -1 | cut -d'"' -f4) ;;
    */deliveries\ *) DELIVERY=$(grep -o '"id":"[^"]*"' <<<"$body" | head -1 | cut -d'"' -f4) ;;
  esac
  printf '%s\n' "$body"
}
