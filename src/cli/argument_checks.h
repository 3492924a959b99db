// Checks every command-line argument before CLI11 parses it, so bad text is refused with exit 3 naming
// the flag, before anything is read or written:
//  - every argument must be UTF-8 (names, consent text, sessions, image file names are stored as UTF-8
//    strings in BSON/JSON; an invalid byte used to fail inside the encoder as an internal error, exit 10);
//  - the values of --name, --external-id, --session, --location, --person and --profile must hold no
//    control characters (newline, ESC, …): they are one-line identifiers, matched exactly and printed in
//    tables, where an escape sequence could rewrite what the operator sees. Free text (--consent,
//    --reason, --meta, --query) may hold newlines and tabs; stored text is escaped on output anyway
//    (core/display_text.h).
#pragma once

namespace facecrowd {

// Error(kBadInput) "argument N (--flag): …" for the first bad argument.
void check_arguments(int argc, char** argv);

}  // namespace facecrowd
