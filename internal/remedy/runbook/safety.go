package runbook

import (
	"fmt"
	"path"
	"regexp"
	"strings"
	"text/template/parse"
)

// Templates fill runbooks with outside strings: entity names, labels, log
// text, all of which an attacker who can send telemetry may choose. They
// are safe as arguments of a program run without a shell, and in the path
// or query of a URL once escaped. They are not safe as shell code (`sh -c
// "restart {{ .Target }}"`), nor as the host of a URL (a runbook's secrets
// would go wherever the attacker says). The parser refuses both.

// shells are the programs that run their argument after -c (or, for the
// interpreters, -e) as code.
var shells = map[string]byte{
	"sh": 'c', "bash": 'c', "dash": 'c', "zsh": 'c', "ksh": 'c', "mksh": 'c', "ash": 'c', "yash": 'c',
	"fish": 'c', "csh": 'c', "tcsh": 'c', "su": 'c', "pwsh": 'c', "powershell": 'c',
	"python": 'c', "python2": 'c', "python3": 'c', "perl": 'e', "ruby": 'e', "node": 'e',
}

// shellScript finds in argv a shell (or interpreter) given code to run, and
// returns the index of that code, or -1. Wrappers (sudo, env, timeout, ssh,
// kubectl exec ... --) are looked through: the shell may come anywhere.
func shellScript(argv []string) int {
	for i, a := range argv {
		prog := path.Base(a)
		if strings.HasPrefix(prog, "python3.") {
			prog = "python3"
		}
		flag, ok := shells[prog]
		if !ok {
			continue
		}
		code := false
		for j := i + 1; j < len(argv); j++ {
			arg := argv[j]
			switch {
			case arg == "--":
				continue
			case arg == "-o" || arg == "+o": // a shell option with its name
				j++
				continue
			case strings.HasPrefix(arg, "--"):
				if strings.EqualFold(arg, "--command") {
					code = true
				}
				continue
			case strings.HasPrefix(arg, "-") && len(arg) > 1:
				if strings.IndexByte(arg[1:], flag) >= 0 || strings.EqualFold(arg, "-command") {
					code = true
				}
				continue
			}
			if code {
				return j
			}
			break // a script file or an operand: no code on the command line
		}
	}
	return -1
}

// checkExec refuses an exec step that hands a template to a shell as code,
// or to ssh, whose command line is run by the remote shell.
func (p *parser) checkExec(argv []string, lines []int, where string) {
	if i := shellScript(argv); i >= 0 && strings.Contains(argv[i], "{{") {
		p.errf(lines[i], "%s.exec[%d] is shell code with a template in it: outside strings (entity names, labels) would run as commands; "+
			`pass the value as an argument instead ("sh", "-c", "restart \"$1\"", "sh", "{{ .Target }}") or read it from $SEER_TARGET`, where, i)
	}
	for i, a := range argv {
		if path.Base(a) != "ssh" {
			continue
		}
		// ssh joins the arguments after the destination into one line
		// for the remote shell.
		dest := -1
		for j := i + 1; j < len(argv); j++ {
			if !strings.HasPrefix(argv[j], "-") {
				if dest >= 0 && strings.Contains(argv[j], "{{") {
					p.errf(lines[j], "%s.exec[%d] is a remote command for ssh with a template in it: the remote shell would run outside strings as commands; "+
						"run a script on the remote host and give it the value on its standard input or in its environment", where, j)
				}
				if dest < 0 {
					dest = j
				}
			}
		}
	}
}

// literalHost is the start of a URL template whose scheme and host are
// written out, up to where the path, query or fragment begins.
var literalHost = regexp.MustCompile(`^https?://[^/?#{}@]+[/?#]`)

// checkURL refuses a URL template whose host (or userinfo) has a template
// in it.
func (p *parser) checkURL(u string, line int, where string) bool {
	i := strings.Index(u, "{{")
	if i < 0 {
		return true
	}
	if !literalHost.MatchString(u[:i]) {
		p.errf(line, "%s.http.url %q: write the scheme and host literally; templates may fill only the path and query "+
			"(where they are escaped), so that the request, and any secret in its headers, goes only to the host you wrote", where, u)
		return false
	}
	return true
}

// urlPart is the function every action of a URL template is piped
// through: it escapes all but the characters unreserved in a URL, so that
// an outside string stays one path segment or one query value.
const urlPart = "seerURLPart"

func escapeURLPart(v any) string {
	s := fmt.Sprint(v)
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if alnum(c) || strings.IndexByte("-._~*", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func alnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' }

// escapeActions pipes every action under n through urlPart, as
// html/template does with its escapers. Calls of other templates are
// refused: their actions would not be escaped.
func escapeActions(n parse.Node) error {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return nil
		}
		for _, c := range n.Nodes {
			if err := escapeActions(c); err != nil {
				return err
			}
		}
	case *parse.ActionNode:
		if len(n.Pipe.Decl) == 0 {
			n.Pipe.Cmds = append(n.Pipe.Cmds, &parse.CommandNode{NodeType: parse.NodeCommand, Pos: n.Pos,
				Args: []parse.Node{parse.NewIdentifier(urlPart).SetPos(n.Pos)}})
		}
	case *parse.IfNode:
		return escapeBranch(&n.BranchNode)
	case *parse.RangeNode:
		return escapeBranch(&n.BranchNode)
	case *parse.WithNode:
		return escapeBranch(&n.BranchNode)
	case *parse.TemplateNode:
		return fmt.Errorf("a URL may not call another template (%s)", n.Name)
	}
	return nil
}

func escapeBranch(b *parse.BranchNode) error {
	if err := escapeActions(b.List); err != nil {
		return err
	}
	return escapeActions(b.ElseList)
}
