# bash completion for wardenctl(1).
#
# Installed as $(BASHCOMPDIR)/wardenctl by `make install`, where
# bash-completion loads it on first use; or source it by hand. Commands,
# subcommands and options come from this file; service and flag names from
# the running warden (`wardenctl -j status`, `wardenctl -j flag list`, on
# the socket given with -S, else $WARDEN_SOCKET, else the default), asked
# quietly and for a second at most, so with no warden there is simply
# nothing to offer.

_wardenctl_commands="ping version status start stop restart signal kill wait flag
	stage table fleet recovery metrics drill events logs reload reexec shutdown call help"
_wardenctl_methods="ping version status service.start service.stop
	service.restart service.signal service.kill service.logs flag.list flag.get flag.set flag.reset
	stage.get stage.set stage.rollback stage.emergency table.info
	table.delete table.corrupt recovery wait subscribe config.reload
	reexec shutdown metrics fleet.status fleet.flag.set fleet.flag.reset
	fleet.stage.set fleet.stage.rollback fleet.stage.emergency"
_wardenctl_states="starting running stopping stopped backoff failed"
# What wait takes after a service besides its states: a probe's verdict.
_wardenctl_healths="healthy unhealthy"
# The event types of src/proto/protocol.h (rpc_event_types), and each
# prefix ending at a dot; check_install sees that every type is here.
_wardenctl_topics="service. service.started service.ready service.exited
	service.backoff service.failed service.signaled service.unhealthy
	supervisor.
	supervisor.failed flag. flag.changed stage. stage.changed guard.
	guard.rollback table. table.deleted table.repaired table.unavailable
	warden. warden.reexecuted warden.reexec_failed events. events.dropped
	hook. hook.finished"

# Ask the daemon: wardenctl [-S SOCKET] -j ARGS..., at most one second.
_wardenctl_ask()
{
	local -a cmd=("$_wardenctl_prog")
	[[ -n $_wardenctl_socket ]] && cmd+=(-S "$_wardenctl_socket")
	if type -P timeout >/dev/null 2>&1; then
		timeout 1 "${cmd[@]}" -j "$@" 2>/dev/null </dev/null
	else
		"${cmd[@]}" -j "$@" 2>/dev/null </dev/null
	fi
}

# The "name" fields of the JSON the daemon answers.
_wardenctl_names()
{
	_wardenctl_ask "$@" |
	    sed -n 's/^[[:space:]]*"name":[[:space:]]*"\([^"\\]*\)",\{0,1\}[[:space:]]*$/\1/p'
}

_wardenctl_services()
{
	_wardenctl_names status
}

_wardenctl_flags()
{
	_wardenctl_names flag list
}

_wardenctl_signals()
{
	local s
	for s in $(compgen -A signal); do
		printf '%s\n' "${s#SIG}"
	done
}

_wardenctl()
{
	local cur prev i ci=0 cmd sub nargs w
	local -a words=("${COMP_WORDS[@]}") args=()

	COMPREPLY=()
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	# "--report=FILE" comes as "--report" "=" "FILE".
	if [[ $prev == = ]] && ((COMP_CWORD > 1)); then
		prev=${COMP_WORDS[COMP_CWORD-2]}
	elif [[ $cur == = ]]; then
		cur=
	fi
	_wardenctl_prog=${COMP_WORDS[0]:-wardenctl}
	_wardenctl_socket=

	# Global options come before the command, as in tmux.
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${words[i]}
		case $w in
		-S|--socket)
			# bash splits "--socket=PATH" at the "=" (COMP_WORDBREAKS).
			if [[ ${words[i+1]} == = ]]; then
				_wardenctl_socket=${words[i+2]}
				((i += 2))
			else
				_wardenctl_socket=${words[i+1]}
				((i++))
			fi ;;
		--socket=*)
			_wardenctl_socket=${w#--socket=} ;;
		-S?*)
			_wardenctl_socket=${w#-S} ;;
		-*) ;;
		*)
			ci=$i
			break ;;
		esac
	done
	# A ~ in the socket path, as the shell would expand it.
	[[ $_wardenctl_socket == \~/* ]] && _wardenctl_socket=$HOME/${_wardenctl_socket#\~/}

	if ((ci == 0)); then
		case $prev in
		-S|--socket)
			COMPREPLY=($(compgen -f -- "$cur"))
			return ;;
		esac
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "-S --socket -j --json -h --help
			    -V --version" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$_wardenctl_commands" -- "$cur"))
		fi
		return
	fi

	cmd=${words[ci]}
	# The operands so far, options and their values left out.
	for ((i = ci + 1; i < COMP_CWORD; i++)); do
		w=${words[i]}
		case $w in
		-s|--signal|-t|--timeout|--min-restarts|-m|--reason|--table|--report|--limit)
			[[ ${words[i+1]} == = ]] || ((i++)) ;;
		--wait-recovered|--wait-observed)
			# MS, if the next word is a number.
			[[ ${words[i+1]} =~ ^[0-9]+$ ]] && ((i++)) ;;
		-n)	# stage's --limit takes a value; reload's --dry-run none.
			[[ $cmd == stage && ${words[i+1]} != = ]] && ((i++)) ;;
		=)	((i++)) ;;
		-*) ;;
		*) args+=("$w") ;;
		esac
	done
	nargs=${#args[@]}
	sub=${args[0]}

	# Option values.
	case $prev in
	-s|--signal)
		[[ $cmd == kill ]] && COMPREPLY=($(compgen -W "$(_wardenctl_signals)" -- "${cur#SIG}"))
		return ;;
	-t|--timeout|--min-restarts|-m|--reason|--wait-recovered|--wait-observed|--limit)
		return ;;
	-n)
		[[ $cmd == stage ]] && return ;;
	--table)
		return ;;
	--report)
		COMPREPLY=($(compgen -f -- "$cur"))
		return ;;
	esac

	if [[ $cur == -* ]]; then
		case $cmd in
		kill)	COMPREPLY=($(compgen -W "-s --signal --wait-recovered" -- "$cur")) ;;
		wait)	COMPREPLY=($(compgen -W "-t --timeout --min-restarts" -- "$cur")) ;;
		flag)
			case $sub in
			set|reset)	COMPREPLY=($(compgen -W "-m --reason --wait-observed" -- "$cur")) ;;
			read)		COMPREPLY=($(compgen -W "--table" -- "$cur")) ;;
			list|'')	COMPREPLY=($(compgen -W "-v --verbose" -- "$cur")) ;;
			esac ;;
		stage)
			case $sub in
			set|rollback|emergency)
				COMPREPLY=($(compgen -W "-m --reason --wait-observed" -- "$cur")) ;;
			get|'')	COMPREPLY=($(compgen -W "-n --limit" -- "$cur")) ;;
			esac ;;
		fleet)
			case $sub in
			stage|flag)	COMPREPLY=($(compgen -W "-m --reason --wait-observed" -- "$cur")) ;;
			esac ;;
		drill)	COMPREPLY=($(compgen -W "--report" -- "$cur")) ;;
		reload)	COMPREPLY=($(compgen -W "-n --dry-run" -- "$cur")) ;;
		logs)	COMPREPLY=($(compgen -W "-n --lines -f --follow" -- "$cur")) ;;
		esac
		return
	fi

	case $cmd in
	status|start|stop|restart)
		COMPREPLY=($(compgen -W "$(_wardenctl_services)" -- "$cur")) ;;
	signal)
		# SERVICE... SIG: after the first service, either.
		if ((nargs == 0)); then
			COMPREPLY=($(compgen -W "$(_wardenctl_services)" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$(_wardenctl_services)
			    $(_wardenctl_signals)" -- "${cur}"))
		fi ;;
	kill|logs)
		COMPREPLY=($(compgen -W "$(_wardenctl_services)" -- "$cur")) ;;
	wait)
		if ((nargs == 0)); then
			COMPREPLY=($(compgen -W "recovered flag stage
			    $(_wardenctl_services)" -- "$cur"))
		elif ((nargs == 1)); then
			case $sub in
			recovered|stage) ;;
			flag)	COMPREPLY=($(compgen -W "$(_wardenctl_flags)" -- "$cur")) ;;
			*)	COMPREPLY=($(compgen -W "$_wardenctl_states $_wardenctl_healths" -- "$cur")) ;;
			esac
		elif ((nargs == 2)) && [[ $sub == flag ]]; then
			COMPREPLY=($(compgen -W "on off" -- "$cur"))
		fi ;;
	flag)
		if ((nargs == 0)); then
			COMPREPLY=($(compgen -W "list get set reset read" -- "$cur"))
		elif ((nargs == 1)); then
			case $sub in
			get|set|reset|read)
				COMPREPLY=($(compgen -W "$(_wardenctl_flags)" -- "$cur")) ;;
			esac
		elif ((nargs == 2)) && [[ $sub == set ]]; then
			COMPREPLY=($(compgen -W "on off" -- "$cur"))
		fi ;;
	stage)
		((nargs == 0)) &&
		    COMPREPLY=($(compgen -W "get set rollback emergency" -- "$cur")) ;;
	table)
		((nargs == 0)) &&
		    COMPREPLY=($(compgen -W "info delete corrupt" -- "$cur")) ;;
	fleet)
		if ((nargs == 0)); then
			COMPREPLY=($(compgen -W "status stage flag" -- "$cur"))
		elif ((nargs == 1)); then
			case $sub in
			stage)	COMPREPLY=($(compgen -W "set rollback emergency" -- "$cur")) ;;
			flag)	COMPREPLY=($(compgen -W "set reset" -- "$cur")) ;;
			esac
		elif ((nargs == 2)) && [[ $sub == flag ]]; then
			COMPREPLY=($(compgen -W "$(_wardenctl_flags)" -- "$cur"))
		elif ((nargs == 3)) && [[ $sub == flag ]]; then
			COMPREPLY=($(compgen -W "on off" -- "$cur"))
		fi ;;
	drill)
		if ((nargs == 0)); then
			COMPREPLY=($(compgen -W "run" -- "$cur"))
		else
			COMPREPLY=($(compgen -f -X '!*.json' -- "$cur") $(compgen -d -- "$cur"))
		fi ;;
	reexec)
		# BINARY: a file, or a folder on the way to one.
		if ((nargs == 0)); then
			compopt -o filenames 2>/dev/null
			COMPREPLY=($(compgen -f -- "$cur"))
		fi ;;
	events)
		COMPREPLY=($(compgen -W "$_wardenctl_topics" -- "$cur")) ;;
	call)
		((nargs == 0)) &&
		    COMPREPLY=($(compgen -W "$_wardenctl_methods" -- "$cur")) ;;
	help)
		((nargs == 0)) &&
		    COMPREPLY=($(compgen -W "$_wardenctl_commands" -- "$cur")) ;;
	esac
}

complete -F _wardenctl wardenctl
