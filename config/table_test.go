package config

import (
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestTableRows: every ID has a row, and each row keeps the promises -h
// and the README make about settings.
func TestTableRows(t *testing.T) {
	seen := map[string]ID{}
	for id := range ID(numIDs) {
		s := id.Setting()
		if s.Name == "" || s.Usage == "" {
			t.Errorf("ID %d has no row in Table (Name %q, Usage %q)", id, s.Name, s.Usage)
			continue
		}
		if other, dup := seen[s.Name]; dup {
			t.Errorf("%s: name also used by ID %d", s.Name, other)
		}
		seen[s.Name] = id
		if s.Name != strings.ToLower(s.Name) || strings.ContainsAny(s.Name, "_ ") {
			t.Errorf("%s: a name is lowercase words joined by '-'", s.Name)
		}
		// "Every flag above but --version can also be set with
		// VAULT_CREDENTIAL_PROCESS_<FLAG>."
		if s.Env != "" && s.Env != EnvName(s.Name) {
			t.Errorf("%s: Env = %s, want %s", s.Name, s.Env, EnvName(s.Name))
		}
		if s.Flag && s.Env == "" {
			t.Errorf("--%s has no %s variable", s.Name, EnvName(s.Name))
		}
		switch {
		case s.Kind == KindBool && s.Placeholder != "":
			t.Errorf("--%s is a boolean flag: it takes no %s", s.Name, s.Placeholder)
		case s.Flag && s.Kind != KindBool && s.Placeholder == "":
			t.Errorf("--%s takes a value but has no placeholder", s.Name)
		case !s.Flag && s.Placeholder != "":
			t.Errorf("%s has no flag but a placeholder", s.Name)
		}
	}
}

// TestTableDefaults: the defaults -h shows are the built-in ones.
func TestTableDefaults(t *testing.T) {
	for id, want := range map[ID]string{IDVaultAddress: DefaultAddress, IDMount: DefaultMount, IDRetries: strconv.Itoa(DefaultRetries)} {
		if got := id.Setting().Default; got != want {
			t.Errorf("%s: Default = %q, want %q", id.Setting().Name, got, want)
		}
	}
	for id, want := range map[ID]time.Duration{IDTimeout: DefaultTimeout, IDRefreshWindow: DefaultRefreshWindow, IDMinRemaining: DefaultMinRemaining} {
		if got, ok := ValidTTL(id.Setting().Default); !ok || got != want {
			t.Errorf("%s: Default = %q, want %v", id.Setting().Name, id.Setting().Default, want)
		}
	}
}

// TestTableKeys: each TOML key of Table is a field of File or Profile whose
// type fits the setting's kind, and each key of File and Profile is named
// by Table (or is an auth key), so neither can drift from the other.
func TestTableKeys(t *testing.T) {
	named := map[string]bool{}
	for id := range ID(numIDs) {
		s := id.Setting()
		for _, k := range []struct {
			key  string
			in   reflect.Type
			path []int
		}{
			{s.ProfileKey, reflect.TypeFor[Profile](), fieldPaths[id].profile},
			{s.TableKey, reflect.TypeFor[File](), fieldPaths[id].table},
		} {
			if k.key == "" {
				continue
			}
			if k.in == reflect.TypeFor[Profile]() {
				named["profiles.*."+k.key] = true
			} else {
				named[k.key] = true
			}
			if k.path == nil {
				t.Errorf("%s: %s has no field with toml tag %q", s.Name, k.in.Name(), k.key)
				continue
			}
			ft := k.in.FieldByIndex(k.path).Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			want := map[Kind]reflect.Kind{KindString: reflect.String, KindDuration: reflect.String,
				KindInt: reflect.Int, KindBool: reflect.Bool}[s.Kind]
			if ft.Kind() != want {
				t.Errorf("%s: %s is a %s, want a %s", s.Name, k.key, ft.Kind(), want)
			}
		}
	}

	var authNames []string
	for _, k := range authKeys {
		authNames = append(authNames, k.name)
	}
	for _, key := range tomlKeys(reflect.TypeFor[File](), "") {
		switch auth, isAuth := strings.CutPrefix(key, "vault.auth."); {
		case isAuth:
			if !slices.Contains(authNames, auth) {
				t.Errorf("%s is not in authKeys", key)
			}
		case strings.HasPrefix(key, "profiles.*.auth."):
			// The same AuthTable as vault.auth.
		case !named[key]:
			t.Errorf("the file's key %s is not in Table", key)
		}
	}
}

// tomlKeys lists the leaf keys of struct type t, with "*" for a map's key.
func tomlKeys(t reflect.Type, prefix string) []string {
	var keys []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("toml")
		if tag == "" || tag == "-" {
			continue
		}
		switch ft := f.Type; ft.Kind() {
		case reflect.Struct:
			keys = append(keys, tomlKeys(ft, prefix+tag+".")...)
		case reflect.Map:
			keys = append(keys, tomlKeys(ft.Elem(), prefix+tag+".*.")...)
		default:
			keys = append(keys, prefix+tag)
		}
	}
	return keys
}

// TestTableLayers: for every setting, each layer Table gives it beats the
// weaker ones and is named as the source, and layers it lacks are not
// read: flag > our variable > the vault CLI's variables > profile >
// defaults table.
func TestTableLayers(t *testing.T) {
	const path = "/etc/vcp.toml"
	for id := range ID(numIDs) {
		s := id.Setting()
		t.Run(s.Name, func(t *testing.T) {
			flags, env := &Flags{}, map[string]string{}
			file := &File{Path: path, Profiles: map[string]Profile{"dev": {}}}
			prof := file.Profiles["dev"]
			type want struct {
				v, src string
				from   layer
				unset  func()
			}
			var layers []want
			if s.Env != "" {
				flags[id] = "from-flag"
				env[s.Env] = "from-env"
				layers = append(layers,
					want{"from-flag", "--" + s.Name, fromFlag, func() { flags[id] = "" }},
					want{"from-env", s.Env, fromEnv, func() { delete(env, s.Env) }})
			} else {
				// A setting without a variable of ours is not a flag either.
				flags[id] = "never-read"
				env[EnvName(s.Name)] = "never-read"
			}
			for _, name := range s.VaultEnv {
				env[name] = "from-" + name
				layers = append(layers, want{"from-" + name, name, fromVaultEnv, func() { delete(env, name) }})
			}
			if p := fieldPaths[id].profile; p != nil {
				v := plant(reflect.ValueOf(&prof).Elem(), p, "from-profile")
				layers = append(layers, want{v, path + ": profiles.dev." + s.ProfileKey, fromProfile,
					func() { reflect.ValueOf(&prof).Elem().FieldByIndex(p).SetZero() }})
			}
			if p := fieldPaths[id].table; p != nil {
				v := plant(reflect.ValueOf(file).Elem(), p, "from-table")
				layers = append(layers, want{v, path + ": " + s.TableKey, fromTable,
					func() { reflect.ValueOf(file).Elem().FieldByIndex(p).SetZero() }})
			}
			layers = append(layers, want{from: fromNowhere})

			r := &resolver{in: Inputs{Flags: flags, Getenv: func(k string) string { return env[k] }, File: file},
				profName: "dev", prof: &prof, profV: reflect.ValueOf(&prof).Elem(), fileV: reflect.ValueOf(file).Elem()}
			for _, w := range layers {
				got, from := r.lookup(id)
				if got.v != w.v || got.src != w.src || from != w.from {
					t.Errorf("lookup = %q from %q (layer %d), want %q from %q (layer %d)", got.v, got.src, from, w.v, w.src, w.from)
				}
				if w.unset != nil {
					w.unset()
				}
			}
		})
	}
}

// plant sets the field at path in v to text (or to 7 or true, for an int
// or a boolean) and returns the text lookup should read back.
func plant(v reflect.Value, path []int, text string) string {
	f := v.FieldByIndex(path)
	if f.Kind() == reflect.Pointer {
		f.Set(reflect.New(f.Type().Elem()))
		f = f.Elem()
	}
	switch f.Kind() {
	case reflect.Int:
		f.SetInt(7)
		return "7"
	case reflect.Bool:
		f.SetBool(true)
		return "true"
	}
	f.SetString(text)
	return text
}
