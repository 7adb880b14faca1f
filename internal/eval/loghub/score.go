package loghub

import (
	"strings"
)

// Metrics are the four Loghub 2.0 accuracies of one parse, each in [0,1].
type Metrics struct {
	// GA is the share of messages whose predicted group holds exactly the
	// messages of their true group.
	GA float64 `json:"GA"`
	// PA is the share of messages whose predicted template equals their
	// true template.
	PA float64 `json:"PA"`
	// FGA is the F1 of predicted groups that equal a true group.
	FGA float64 `json:"FGA"`
	// FTA is the F1 of predicted groups that equal a true group and whose
	// template equals that group's true template.
	FTA float64 `json:"FTA"`
}

// Score compares predicted templates with the true ones, message by
// message. Groups are the messages sharing a template, after Normalize, as
// Loghub 2.0 groups a parser's output; truth and pred must be as long.
func Score(truth, pred []string) Metrics {
	n := min(len(truth), len(pred))
	if n == 0 {
		return Metrics{}
	}
	// Number the groups on both sides.
	tid, pid := make([]int, n), make([]int, n)
	tnames, pnames := number(truth[:n], tid), number(pred[:n], pid)
	tsize, psize := make([]int, len(tnames)), make([]int, len(pnames))
	for i := range n {
		tsize[tid[i]]++
		psize[pid[i]]++
	}
	// A predicted group equals a true group when every message of it has
	// that one true group and the two sizes agree.
	type pair struct{ p, t int }
	joint := make(map[pair]int)
	parts := make([]int, len(pnames)) // distinct true groups per predicted
	for i := range n {
		k := pair{pid[i], tid[i]}
		if joint[k] == 0 {
			parts[pid[i]]++
		}
		joint[k]++
	}
	var grouped, parsed, groups, templates int
	for k, c := range joint {
		if parts[k.p] != 1 || c != tsize[k.t] || c != psize[k.p] {
			continue
		}
		grouped += c
		groups++
		if pnames[k.p] == tnames[k.t] {
			templates++
		}
	}
	for i := range n {
		if pnames[pid[i]] == tnames[tid[i]] {
			parsed++
		}
	}
	return Metrics{
		GA:  float64(grouped) / float64(n),
		PA:  float64(parsed) / float64(n),
		FGA: f1(groups, len(pnames), len(tnames)),
		FTA: f1(templates, len(pnames), len(tnames)),
	}
}

// number gives each distinct normalised template an index, writes the
// index of each message to ids and returns the templates by index.
func number(templates []string, ids []int) []string {
	idx := make(map[string]int)
	var names []string
	for i, t := range templates {
		t = Normalize(t)
		k, ok := idx[t]
		if !ok {
			k = len(names)
			idx[t] = k
			names = append(names, t)
		}
		ids[i] = k
	}
	return names
}

// mean is the unweighted average of ms, zero when there are none.
func mean(ms []Metrics) Metrics {
	var a Metrics
	for _, m := range ms {
		a.GA += m.GA
		a.PA += m.PA
		a.FGA += m.FGA
		a.FTA += m.FTA
	}
	if n := float64(len(ms)); n > 0 {
		a.GA, a.PA, a.FGA, a.FTA = a.GA/n, a.PA/n, a.FGA/n, a.FTA/n
	}
	return a
}

func f1(correct, predicted, actual int) float64 {
	if correct == 0 || predicted == 0 || actual == 0 {
		return 0
	}
	p := float64(correct) / float64(predicted)
	r := float64(correct) / float64(actual)
	return 2 * p * r / (p + r)
}

// Normalize brings a template to the form both sides are compared in: white
// space runs become one space, and wildcards joined by nothing, a dot or a
// colon ("<*><*>", "<*>.<*>", "<*>:<*>", as an address and port) become one,
// because where one variable ends and the next begins is a matter of
// tokenisation rather than of parsing.
func Normalize(t string) string {
	t = strings.Join(strings.Fields(t), " ")
	if !strings.Contains(t, wild) {
		return t
	}
	for {
		u := t
		for _, sep := range []string{"", ".", ":"} {
			u = strings.ReplaceAll(u, wild+sep+wild, wild)
		}
		if u == t {
			return t
		}
		t = u
	}
}

const wild = "<*>"
