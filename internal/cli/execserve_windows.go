package cli

import "os"

// forwarded is empty on Windows: Ctrl-C reaches every process of the console,
// blcheck-serve with blcheck.
var forwarded []os.Signal

func stoppedAsAsked(*os.ProcessState) bool { return false }
