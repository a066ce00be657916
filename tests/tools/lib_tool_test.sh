# Sourced first by each tool test, with the binary under test as its argument
# (`. "$(dirname "$0")/lib_tool_test.sh" "$1"`): sets $ringdns and $root, makes the
# scratch folder $work (removed, and every process started with start_bg stopped, on
# exit; tools/lib_loopback.sh), and gives `check` and `eventually` (lib_check.sh).
ringdns=$1
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$root/tools/lib_loopback.sh"
loopback_init
. "$root/tests/tools/lib_check.sh"
