package awsconfig

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

const (
	testScope = "vault=http://127.0.0.1:8200"
	cmdDev    = `/opt/vcp --mount aws --role dev --type iam_user`
	cmdOps    = `/opt/vcp --mount team/aws --role ops --type assumed_role`
)

var (
	markAWS  = MarkerLine(testScope, "aws") + "\n"
	markTeam = MarkerLine(testScope, "team/aws") + "\n"
	devStz   = markAWS + "[profile aws-dev]\ncredential_process = " + cmdDev + "\n"
	opsStz   = markTeam + "[profile team-aws-ops]\ncredential_process = " + cmdOps + "\nregion = eu-west-1\n"
	devP     = Profile{Name: "aws-dev", Command: cmdDev, Mount: "aws"}
	opsP     = Profile{Name: "team-aws-ops", Command: cmdOps, Region: "eu-west-1", Mount: "team/aws"}
	all      = func(string) bool { return true }
	none     = func(string) bool { return false }
)

// userFile is a user's own config: comments, odd spacing, an sso-session
// and a nested s3 block, which every test keeps byte for byte.
const userFile = "# my settings\n[default]\nregion=eu-central-1\n\n[sso-session corp]\nsso_region = us-east-1\n" +
	"[ profile  mine ]\ns3 =\n  region = x\n; a comment\n"

// TestSync: what each plan makes of a file, and the changes it reports.
func TestSync(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		plan    Plan
		want    string
		changes []Change
	}{
		{name: "new file", plan: Plan{Profiles: []Profile{devP, opsP}},
			want: devStz + "\n" + opsStz, changes: []Change{{"aws-dev", Added, ""}, {"team-aws-ops", Added, ""}}},
		{name: "appended after the user's lines", in: userFile, plan: Plan{Profiles: []Profile{devP}},
			want: userFile + "\n" + devStz, changes: []Change{{"aws-dev", Added, ""}}},
		{name: "a file without a final line break gets one", in: "[default]\nregion = x", plan: Plan{Profiles: []Profile{devP}},
			want: "[default]\nregion = x\n\n" + devStz, changes: []Change{{"aws-dev", Added, ""}}},
		{name: "up to date", in: userFile + "\n" + devStz + "\n" + opsStz, plan: Plan{Profiles: []Profile{devP, opsP}},
			want: userFile + "\n" + devStz + "\n" + opsStz, changes: []Change{{Profile: "aws-dev"}, {Profile: "team-aws-ops"}}},
		{name: "updated in place, the user's own lines in it kept",
			in:      markAWS + "[profile aws-dev]\n# mine\noutput = json\ncredential_process = /old/vcp\nregion = us-west-2\n" + userFile,
			plan:    Plan{Profiles: []Profile{{Name: "aws-dev", Command: cmdDev, Mount: "aws", Region: "eu-west-1"}}},
			want:    markAWS + "[profile aws-dev]\n# mine\noutput = json\ncredential_process = " + cmdDev + "\nregion = eu-west-1\n" + userFile,
			changes: []Change{{"aws-dev", Updated, ""}}},
		{name: "without a region the user's region stays",
			in:   markAWS + "[profile aws-dev]\ncredential_process = /old\nregion = us-west-2\n",
			plan: Plan{Profiles: []Profile{devP}},
			want: markAWS + "[profile aws-dev]\ncredential_process = " + cmdDev + "\nregion = us-west-2\n", changes: []Change{{"aws-dev", Updated, ""}}},
		{name: "missing keys inserted after the header, the last line given its line break",
			in:   markTeam + "[profile team-aws-ops]",
			plan: Plan{Profiles: []Profile{opsP}},
			want: opsStz, changes: []Change{{"team-aws-ops", Updated, ""}}},
		{name: "a profile of the user's is kept", in: "[profile aws-dev]\ncredential_process = mine\n",
			plan: Plan{Profiles: []Profile{devP}}, want: "[profile aws-dev]\ncredential_process = mine\n",
			changes: []Change{{"aws-dev", Kept, "it exists and was not written by aws-config --all"}}},
		{name: "a marker not right above the header does not count",
			in:   markAWS + "\n[profile aws-dev]\ncredential_process = mine\n",
			plan: Plan{Profiles: []Profile{devP}}, want: markAWS + "\n[profile aws-dev]\ncredential_process = mine\n",
			changes: []Change{{"aws-dev", Kept, "it exists and was not written by aws-config --all"}}},
		{name: "another Vault's profile is kept, and not pruned",
			in:      strings.Replace(devStz, testScope, "vault=https://other", 1),
			plan:    Plan{Profiles: []Profile{devP}, Prune: true, Prunable: all},
			want:    strings.Replace(devStz, testScope, "vault=https://other", 1),
			changes: []Change{{"aws-dev", Kept, "aws-config --all manages it for another Vault (vault=https://other)"}}},
		{name: "a name twice in the file is kept", in: devStz + devStz, plan: Plan{Profiles: []Profile{devP}},
			want: devStz + devStz, changes: []Change{{"aws-dev", Kept, "the file has more than one profile of that name"}}},
		{name: "a gone name twice in the file is not pruned", in: devStz + devStz, plan: Plan{Prune: true, Prunable: all},
			want: devStz + devStz, changes: []Change{{"aws-dev", Stale, "its role is gone, but the file has more than one profile of that name"}}},
		{name: "gone, without --prune", in: userFile + "\n" + devStz + "\n" + opsStz, plan: Plan{Profiles: []Profile{opsP}, Prunable: all},
			want:    userFile + "\n" + devStz + "\n" + opsStz,
			changes: []Change{{Profile: "team-aws-ops"}, {"aws-dev", Stale, "its role is gone; --prune removes it"}}},
		{name: "gone, its mount not listed completely", in: userFile + "\n" + devStz + "\n" + opsStz,
			plan: Plan{Profiles: []Profile{opsP}, Prune: true, Prunable: none},
			want: userFile + "\n" + devStz + "\n" + opsStz,
			changes: []Change{{Profile: "team-aws-ops"}, {"aws-dev", Unsure,
				"the listing of aws was not complete: its role may still be there"}}},
		{name: "pruned from the middle", in: userFile + "\n" + devStz + "\n" + opsStz,
			plan: Plan{Profiles: []Profile{opsP}, Prune: true, Prunable: all},
			want: userFile + "\n" + opsStz, changes: []Change{{Profile: "team-aws-ops"}, {"aws-dev", Removed, ""}}},
		{name: "pruned before a user's section: its comment and the user's lines stay",
			in:   devStz + "\n# about mine\n[profile mine]\nregion = x\n",
			plan: Plan{Prune: true, Prunable: all}, want: "\n# about mine\n[profile mine]\nregion = x\n",
			changes: []Change{{"aws-dev", Removed, ""}}},
		{name: "lines a user added to a pruned profile go with it",
			in:   "[default]\n\n" + devStz + "output = json\n",
			plan: Plan{Prune: true, Prunable: all}, want: "[default]\n",
			changes: []Change{{"aws-dev", Removed, ""}}},
		{name: "only the unlisted mount's profile is pruned", in: devStz + "\n" + opsStz,
			plan: Plan{Prune: true, Prunable: func(m string) bool { return m == "team/aws" }},
			want: devStz, changes: []Change{{"aws-dev", Unsure, "the listing of aws was not complete: its role may still be there"},
				{"team-aws-ops", Removed, ""}}},
		{name: "CRLF file", in: "[default]\r\nregion = x\r\n", plan: Plan{Profiles: []Profile{devP}},
			want:    "[default]\r\nregion = x\r\n\r\n" + strings.ReplaceAll(devStz, "\n", "\r\n"),
			changes: []Change{{"aws-dev", Added, ""}}},
		{name: "default profile", plan: Plan{Profiles: []Profile{{Name: "default", Command: cmdDev, Mount: "aws"}}},
			want: markAWS + "[default]\ncredential_process = " + cmdDev + "\n", changes: []Change{{"default", Added, ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.plan.Scope == "" {
				tt.plan.Scope = testScope
			}
			r, err := Sync([]byte(tt.in), tt.plan)
			if err != nil {
				t.Fatalf("Sync: %v", err)
			}
			if string(r.Data) != tt.want {
				t.Errorf("Sync wrote\n%q\nwant\n%q", r.Data, tt.want)
			}
			if !slices.Equal(r.Changes, tt.changes) {
				t.Errorf("changes %+v\nwant %+v", r.Changes, tt.changes)
			}
			if r.Changed() != (tt.in != tt.want) {
				t.Errorf("Changed() = %v, the bytes changed %v", r.Changed(), tt.in != tt.want)
			}
		})
	}
}

// TestSyncRoundTrip: adding profiles to a file and pruning them all again
// gives back the file byte for byte, whatever it held; a second identical
// run changes nothing.
func TestSyncRoundTrip(t *testing.T) {
	for _, in := range []string{"", userFile, "[default]\r\nregion = x\r\n", "# only a comment\n", "\n\n[profile x]\n\n"} {
		add := Plan{Scope: testScope, Profiles: []Profile{devP, opsP}}
		r, err := Sync([]byte(in), add)
		if err != nil {
			t.Fatal(err)
		}
		again, err := Sync(r.Data, add)
		if err != nil || again.Changed() {
			t.Errorf("%q: a second run changes the file: %v\n%s", in, err, again.Diff("a", "b"))
		}
		back, err := Sync(r.Data, Plan{Scope: testScope, Prune: true, Prunable: all})
		if err != nil {
			t.Fatal(err)
		}
		if string(back.Data) != in {
			t.Errorf("added then pruned: %q, want %q", back.Data, in)
		}
	}
}

// TestSyncRefuses: a plan that would break the file or name a profile twice.
func TestSyncRefuses(t *testing.T) {
	for _, p := range [][]Profile{
		{devP, devP},
		{{Name: "a b", Command: "x", Mount: "aws"}},
		{{Name: "[x]", Command: "x", Mount: "aws"}},
		{{Name: "x", Command: "x\n[profile y]", Mount: "aws"}},
		{{Name: "x", Command: "x", Mount: "aws", Region: "a\nb"}},
		{{Name: "x", Command: "x", Mount: "a b"}},
	} {
		if _, err := Sync(nil, Plan{Scope: testScope, Profiles: p}); !errors.Is(err, errBadPlan) {
			t.Errorf("Sync(%+v) = %v, want errBadPlan", p, err)
		}
	}
}

// TestSyncDiff: the unified diff of an update, an addition and a removal,
// with three lines of context, a secret value in the context not shown,
// and a missing final line break said.
func TestSyncDiff(t *testing.T) {
	in := "[default]\naws_secret_access_key = SECRETVALUE\nregion = x\n\n" +
		markAWS + "[profile aws-dev]\ncredential_process = /old\n\n" +
		markAWS + "[profile aws-gone]\ncredential_process = /gone\n"
	r, err := Sync([]byte(in), Plan{Scope: testScope, Profiles: []Profile{devP, opsP}, Prune: true, Prunable: all})
	if err != nil {
		t.Fatal(err)
	}
	want := `--- a
+++ b
@@ -4,8 +4,9 @@
 
 ` + trimEOL(markAWS) + `
 [profile aws-dev]
-credential_process = /old
+credential_process = ` + cmdDev + `
-
-` + trimEOL(markAWS) + `
-[profile aws-gone]
-credential_process = /gone
+
+` + trimEOL(markTeam) + `
+[profile team-aws-ops]
+credential_process = ` + cmdOps + `
+region = eu-west-1
`
	if got := r.Diff("a", "b"); got != want {
		t.Errorf("diff\n%s\nwant\n%s", got, want)
	}
	r, err = Sync([]byte("[default]\naws_secret_access_key = SECRETVALUE"), Plan{Scope: testScope, Profiles: []Profile{devP}})
	if err != nil {
		t.Fatal(err)
	}
	want = "--- a\n+++ b\n@@ -1,2 +1,6 @@\n [default]\n-aws_secret_access_key = (not shown)\n\\ No newline at end of file\n" +
		"+aws_secret_access_key = (not shown)\n+\n+" + trimEOL(markAWS) + "\n+[profile aws-dev]\n+credential_process = " + cmdDev + "\n"
	if got := r.Diff("a", "b"); got != want {
		t.Errorf("diff\n%s\nwant\n%s", got, want)
	}
	if got := (&Result{}).Diff("a", "b"); got != "" {
		t.Errorf("diff of no change: %q", got)
	}
}
