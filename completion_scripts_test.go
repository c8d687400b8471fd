package main

// The completion scripts, one template per shell, all made from a
// completionModel: which words are commands, flags and values is data from
// the model, and each script only knows how its shell completes.

const bashCompletion = `# bash completion for {{.Program}}, printed by ` + "`{{.Program}} completion bash`" + `
# from this version's commands and flags. Works with bash 3.2 and later.

_{{.Func}}_profiles() {
    local i config="" p prog=${COMP_WORDS[0]/#\~/$HOME}
    for ((i = 1; i < COMP_CWORD; i++)); do
        if [[ ${COMP_WORDS[i]} == {{.Config}} ]]; then
            config=${COMP_WORDS[i+1]}
            [[ $config == = ]] && config=${COMP_WORDS[i+2]}
        fi
    done
    config=${config/#\~/$HOME}
    COMPREPLY=()
    while IFS= read -r p; do
        [[ $p == "$cur"* ]] && COMPREPLY+=("$p")
    done < <("$prog" completion profiles ${config:+{{.Config}} "$config"} 2>/dev/null)
}

_{{.Func}}() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev="" path="" flags="" valued="" i
    ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD-1]}
    # bash splits --flag=value at "=" (COMP_WORDBREAKS)
    if [[ $cur == = ]]; then
        cur=""
    elif [[ $prev == = ]] && ((COMP_CWORD > 1)); then
        prev=${COMP_WORDS[COMP_CWORD-2]}
    fi
    if ((COMP_CWORD > 1)); then
        case ${COMP_WORDS[1]} in
        {{join .Commands "|"}}) path=${COMP_WORDS[1]} ;;
        esac
    fi
    case $path in
{{- range .Subs}}
    {{.Cmd}})
        if ((COMP_CWORD == 2)); then
            COMPREPLY=($(compgen -W "{{words .Words}}" -- "$cur"))
            return
        fi
        path="$path ${COMP_WORDS[2]}" ;;
{{- end}}
{{- if .Exec}}
    {{join .Exec "|"}})
        for ((i = 2; i < COMP_CWORD; i++)); do
            if [[ ${COMP_WORDS[i]} == -- ]]; then
                if ((i == COMP_CWORD - 1)); then
                    COMPREPLY=($(compgen -c -- "$cur"))
                else
                    COMPREPLY=($(compgen -f -- "$cur"))
                fi
                return
            fi
        done ;;
{{- end}}
    esac
    case $path in
{{- range .Paths}}
    "{{.Path}}") flags="{{words .Flags}}" valued="{{words .Valued}}" ;;
{{- end}}
    esac
    if [[ -n $prev && " $valued " == *" $prev "* ]]; then
        case $prev in
{{- range .Values}}
        {{.Flag}}) COMPREPLY=($(compgen -W "{{words .Words}}" -- "$cur")) ;;
{{- end}}
{{- if .Files}}
        {{join .Files "|"}})
            type compopt >/dev/null 2>&1 && compopt -o filenames
            COMPREPLY=($(compgen -f -- "$cur")) ;;
{{- end}}
        {{.Profile}}) _{{.Func}}_profiles ;;
        esac
        return
    fi
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$flags" -- "$cur"))
    elif ((COMP_CWORD == 1)); then
        COMPREPLY=($(compgen -W "{{words .Commands}}" -- "$cur"))
    fi
}

complete -F _{{.Func}} {{.Program}}
`

const zshCompletion = `#compdef {{.Program}}
# zsh completion for {{.Program}}, printed by ` + "`{{.Program}} completion zsh`" + `
# from this version's commands and flags.

_{{.Func}}_profiles() {
    local i config="" prog=${words[1]/#\~/$HOME}
    local -a cfg
    for ((i = 2; i < CURRENT; i++)); do
        [[ ${words[i]} == {{.Config}} ]] && config=${words[i+1]}
        [[ ${words[i]} == {{.Config}}=* ]] && config=${words[i]#*=}
    done
    [[ -n $config ]] && cfg=({{.Config}} "${config/#\~/$HOME}")
    compadd -- ${(f)"$("$prog" completion profiles $cfg 2>/dev/null)"}
}

_{{.Func}}() {
    local cur=${words[CURRENT]} prev=${words[CURRENT-1]} cmdpath="" i
    local -a flags valued
    if [[ $cur == --*=* ]]; then
        prev=${cur%%=*}
        compset -P '*='
        cur=${cur#*=}
    fi
    if (( CURRENT > 2 )); then
        case ${words[2]} in
        ({{join .Commands "|"}}) cmdpath=${words[2]} ;;
        esac
    fi
    case $cmdpath in
{{- range .Subs}}
    ({{.Cmd}})
        if (( CURRENT == 3 )); then
            compadd -- {{words .Words}}
            return
        fi
        cmdpath="$cmdpath ${words[3]}" ;;
{{- end}}
{{- if .Exec}}
    ({{join .Exec "|"}})
        for ((i = 3; i < CURRENT; i++)); do
            if [[ ${words[i]} == -- ]]; then
                if (( i == CURRENT - 1 )); then _command_names -e; else _files; fi
                return
            fi
        done ;;
{{- end}}
    esac
    case $cmdpath in
{{- range .Paths}}
    ("{{.Path}}") flags=({{words .Flags}}) valued=({{words .Valued}}) ;;
{{- end}}
    esac
    if [[ -n $prev ]] && (( ${valued[(Ie)$prev]} )); then
        case $prev in
{{- range .Values}}
        ({{.Flag}}) compadd -- {{words .Words}} ;;
{{- end}}
{{- if .Files}}
        ({{join .Files "|"}}) _files ;;
{{- end}}
        ({{.Profile}}) _{{.Func}}_profiles ;;
        esac
        return
    fi
    if [[ $cur == -* ]]; then
        compadd -- $flags
    elif (( CURRENT == 2 )); then
        compadd -- {{words .Commands}}
    fi
}

if [[ ${zsh_eval_context[-1]} == loadautofunc ]]; then
    _{{.Func}} "$@"
else
    compdef _{{.Func}} {{.Program}}
fi
`

const fishCompletion = `# fish completion for {{.Program}}, printed by ` + "`{{.Program}} completion fish`" + `
# from this version's commands and flags.

# The command line so far as the model names it: "" (the default command),
# "env", "cache list".
function __{{.Func}}_path
    set -l t (commandline -opc)
    if not set -q t[2]; or not contains -- $t[2] {{words .Commands}}
        return
    end
{{- if .Subs}}
    if contains -- $t[2] {{range .Subs}} {{.Cmd}}{{end}}; and set -q t[3]
        echo "$t[2] $t[3]"
        return
    end
{{- end}}
    echo $t[2]
end

function __{{.Func}}_is
    set -l p (__{{.Func}}_path)
    test "$p" = "$argv[1]"
end

# The first word after the command, or after --.
function __{{.Func}}_first
    test (count (commandline -opc)) -eq $argv[1]
end

function __{{.Func}}_after_dashdash
    set -l t (commandline -opc)
    contains -- -- $t[3..-1]
end

function __{{.Func}}_profiles
    set -l t (commandline -opc)
    set -l c
    if set -l i (contains -i -- {{.Config}} $t); and set -q t[(math $i + 1)]
        set c {{.Config}} $t[(math $i + 1)]
    end
    $t[1] completion profiles $c 2>/dev/null
end

complete -c {{.Program}} -f
complete -c {{.Program}} -n '__{{.Func}}_first 1' -a '{{words .Commands}}'
{{- range .Subs}}
complete -c {{$.Program}} -n '__{{$.Func}}_is {{.Cmd}}; and __{{$.Func}}_first 2' -a '{{words .Words}}'
{{- end}}
{{- range .Exec}}
complete -c {{$.Program}} -n '__{{$.Func}}_is {{.}}; and __{{$.Func}}_after_dashdash' -F -a '(__fish_complete_command)'
{{- end}}
{{- range $p := .Paths}}{{range .Flags}}
complete -c {{$.Program}} -n '__{{$.Func}}_is "{{$p.Path}}"' -l {{long .}}{{$.FishValue $p .}}
{{- end}}{{end}}
`

const powershellCompletion = `# PowerShell completion for {{.Program}}, printed by
# ` + "`{{.Program}} completion powershell`" + ` from this version's commands and flags.
Register-ArgumentCompleter -Native -CommandName '{{.Program}}', '{{.Program}}.exe' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)
    $commands = @({{quoted .Commands}})
    $subs = @{
{{- range .Subs}}
        '{{.Cmd}}' = @({{quoted .Words}})
{{- end}}
    }
    # The flags of each command line, and those that take a value.
    $flags = @{
{{- range .Paths}}
        '{{.Path}}' = @({{quoted .Flags}})
{{- end}}
    }
    $valued = @{
{{- range .Paths}}
        '{{.Path}}' = @({{quoted .Valued}})
{{- end}}
    }
    $values = @{
{{- range .Values}}
        '{{.Flag}}' = @({{quoted .Words}})
{{- end}}
    }
    $files = @({{quoted .Files}})

    # The words before the one completed; the first is the program.
    $words = @($commandAst.CommandElements | Where-Object { $_.Extent.StartOffset -lt $cursorPosition } | ForEach-Object { $_.Extent.Text })
    $n = $words.Count
    if ($n -gt 1 -and $wordToComplete -ne '' -and $words[$n - 1] -eq $wordToComplete) { $n-- }
    $cur = $wordToComplete
    $prev = $words[$n - 1]
    $prefix = ''
    if ($cur -like '--*=*') {
        $prev = $cur.Split('=')[0]
        $prefix = $prev + '='
        $cur = $cur.Substring($prefix.Length)
    }
    $path = ''
    $candidates = @()
    if ($n -gt 1 -and $commands -contains $words[1]) {
        $path = $words[1]
        if ($subs.ContainsKey($path)) {
            if ($n -eq 2) { $candidates = $subs[$path] } else { $path = $path + ' ' + $words[2] }
        }
    }
    if ($candidates.Count -eq 0) {
        if ($valued.ContainsKey($path) -and $valued[$path] -contains $prev) {
            if ($values.ContainsKey($prev)) {
                $candidates = $values[$prev]
            } elseif ($prev -eq '{{.Profile}}') {
                $cfg = @()
                $i = [array]::IndexOf($words, '{{.Config}}')
                if ($i -gt 0 -and $i + 1 -lt $n) { $cfg = @('{{.Config}}', $words[$i + 1]) }
                $candidates = @(& $words[0] completion profiles @cfg 2>$null)
            } else {
                return # a path or a free value: PowerShell offers file names
            }
        } elseif ($cur -like '-*') {
            if ($flags.ContainsKey($path)) { $candidates = $flags[$path] }
        } elseif ($n -eq 1) {
            $candidates = $commands
        }
    }
    $candidates | Where-Object { $_ -like "$cur*" } | ForEach-Object {
        [System.Management.Automation.CompletionResult]::new($prefix + $_, $_, 'ParameterValue', $_)
    }
}
`
