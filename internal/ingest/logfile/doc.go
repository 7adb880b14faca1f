// Package logfile tails log files and hands their lines to the pipeline as
// log records: seer run --tail PATH gives it the logs of programs that
// write only to files.
//
// A Tailer follows each file by name across rotation: when the name points
// to a new file (rename and create), it finishes the old file first and
// then reads the new one from its start; when the file shrinks (truncate,
// copytruncate), it reads again from the start. It polls, so it needs no
// file-system notification and works on any file system.
//
// With a header format (logs.ParseFormat's syntax, such as
// "<Date> <Time> <Level> <Component>: <Content>") the Content field is the
// body, the Level (or Severity) field the severity, Date and Time (or
// Timestamp) the time, and the other fields attributes. A line that does
// not fit the format, or any line without one, is a body whose severity is
// guessed from a level word among its first words.
package logfile
