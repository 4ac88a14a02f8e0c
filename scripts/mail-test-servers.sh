#!/usr/bin/env bash
# Real Postfix (SMTP) + Dovecot (IMAP) servers on 127.0.0.1 for Ventanilla's
# e-mail tests. No systemd, run as root. All config, queue, mailboxes, logs and
# pids live under one directory ROOT; /etc is not edited.
# Recipe and pitfalls: shared/MAIL-TEST-SERVERS.md.
#
# Usage:
#   scripts/mail-test-servers.sh install      # apt-get install postfix + dovecot (idempotent)
#   scripts/mail-test-servers.sh start ROOT   # (re)generate config under ROOT, start, wait for ports
#   scripts/mail-test-servers.sh stop ROOT    # stop the servers of ROOT (idempotent)
#   scripts/mail-test-servers.sh flush ROOT   # postqueue -f (deliver deferred mail now)
#
# ROOT must be an absolute path. Ports (defaults shown) can be overridden so
# that several instances run side by side:
#   MAIL_SMTP_PORT=2525        SMTP, no AUTH (mynetworks 127.0.0.0/8), STARTTLS offered
#   MAIL_SUBMISSION_PORT=2587  STARTTLS + AUTH required
#   MAIL_IMAP_PORT=1143        IMAP, STARTTLS offered, plaintext LOGIN allowed
#   MAIL_LMTP_PORT=2424        internal: Postfix -> Dovecot delivery
#   MAIL_AUTH_PORT=2426        internal: Dovecot auth for Postfix SASL
#   MAIL_IMAPS_PORT=0          IMAP with implicit TLS; 0 (the default) = none
#
# Users (password "secreto"): crm, ana, luis, supervisor, area @ventanilla.test.
# "start" prints KEY=VALUE lines at the end: SMTP_PORT, SUBMISSION_PORT,
# IMAP_PORT, LMTP_PORT, AUTH_PORT, IMAPS_PORT, CA_CERT, DOMAIN, PASSWORD, USERS, ROOT.
# A restart on an existing ROOT keeps the certificate, the queue and the mail.
set -euo pipefail

export PATH="/usr/sbin:/usr/bin:/sbin:/bin:${PATH:-}"

DOMAIN=ventanilla.test
PASSWORD=secreto
USERS=(crm ana luis supervisor area)

SMTP_PORT="${MAIL_SMTP_PORT:-2525}"
SUBMISSION_PORT="${MAIL_SUBMISSION_PORT:-2587}"
IMAP_PORT="${MAIL_IMAP_PORT:-1143}"
LMTP_PORT="${MAIL_LMTP_PORT:-2424}"
AUTH_PORT="${MAIL_AUTH_PORT:-2426}"
IMAPS_PORT="${MAIL_IMAPS_PORT:-0}"

START_TIMEOUT="${MAIL_START_TIMEOUT:-10}"  # seconds to wait for the ports
STOP_TIMEOUT="${MAIL_STOP_TIMEOUT:-15}"    # seconds to wait for TERM before KILL

log() { printf 'mail-test-servers: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//' >&2
    exit 2
}

need_root() { [[ $(id -u) -eq 0 ]] || die "must run as root"; }

installed() {
    [[ -x /usr/sbin/postfix && -x /usr/sbin/dovecot \
        && -x /usr/lib/dovecot/imap && -x /usr/lib/dovecot/lmtp ]]
}

ensure_vmail() {
    if ! id -u vmail >/dev/null 2>&1; then
        useradd --system --no-create-home --shell /usr/sbin/nologin vmail
        log "created system user vmail"
    fi
}

cmd_install() {
    need_root
    if installed; then
        log "postfix and dovecot already installed"
    else
        log "installing postfix + dovecot"
        apt-get update -q
        echo 'postfix postfix/main_mailer_type select No configuration' | debconf-set-selections
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
            postfix dovecot-imapd dovecot-lmtpd
        installed || die "postfix/dovecot still missing after apt-get install"
    fi
    ensure_vmail
}

# --- helpers ---------------------------------------------------------------

check_root_arg() {
    local root="${1:-}"
    [[ -n $root ]] || usage
    [[ $root == /* ]] || die "ROOT must be an absolute path: $root"
    [[ $root != *[[:space:]]* ]] || die "ROOT must not contain whitespace: $root"
    [[ $root != / ]] || die "ROOT must not be /"
}

# Strip trailing slashes and collapse duplicate ones.
normalize() {
    local p="$1"
    while [[ $p == *//* ]]; do p="${p//\/\//\/}"; done
    while [[ $p == */ && $p != / ]]; do p="${p%/}"; done
    printf '%s' "$p"
}

check_port() {
    local name="$1" val="$2"
    if ! [[ $val =~ ^[0-9]+$ ]] || ((val < 1 || val > 65535)); then
        die "$name is not a port: $val"
    fi
}

port_open() {
    # Succeeds if something accepts a TCP connection on 127.0.0.1:$1.
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Postfix daemons (user postfix), Dovecot (dovecot, dovenull) and delivery
# (vmail) must traverse every parent of ROOT: a 0700 parent, as mktemp -d makes,
# breaks Postfix with "master.lock: Permission denied". Add o+x where missing.
make_parents_traversable() {
    local d="$1"
    while [[ $d != / ]]; do
        d="$(dirname "$d")"
        if [[ -d $d ]] && (( (8#$(stat -c %a "$d") & 1) == 0 )); then
            log "chmod o+x $d (mail daemons must traverse it)"
            chmod o+x "$d"
        fi
    done
}

# Print the pid in file $1 if it is alive and its command is $2.
live_pid() {
    local file="$1" comm="$2" pid
    [[ -r $file ]] || return 1
    pid="$(tr -dc '0-9' <"$file")"
    [[ -n $pid ]] || return 1
    [[ -r /proc/$pid/comm && "$(cat "/proc/$pid/comm" 2>/dev/null)" == "$comm" ]] || return 1
    printf '%s' "$pid"
}

# Direct children of the given pids (both masters fork their daemons directly).
children_of() {
    local p
    for p in "$@"; do
        pgrep -P "$p" || true
    done
}

alive_among() {
    local p out=()
    for p in "$@"; do
        if kill -0 "$p" 2>/dev/null; then out+=("$p"); fi
    done
    if ((${#out[@]})); then printf '%s\n' "${out[@]}"; fi
}

show_logs() {
    local root="$1" f
    for f in "$root/dovecot.log" "$root/postfix.log"; do
        if [[ -f $f ]]; then
            log "---- tail of $f ----"
            tail -n 40 "$f" >&2 || true
        fi
    done
}

# --- stop --------------------------------------------------------------------

cmd_stop() {
    need_root
    local root
    check_root_arg "${1:-}"
    root="$(normalize "$1")"
    local masters=() pid
    if pid="$(live_pid "$root/postfix-spool/pid/master.pid" master)"; then masters+=("$pid"); fi
    if pid="$(live_pid "$root/dovecot/run/master.pid" dovecot)"; then masters+=("$pid"); fi
    if ((${#masters[@]} == 0)); then
        log "nothing running for $root"
        return 0
    fi
    local all
    mapfile -t all < <(printf '%s\n' "${masters[@]}"; children_of "${masters[@]}")
    log "stopping ${root}: masters ${masters[*]}"
    # TERM the masters and their children together: TERM on the masters alone
    # takes ~3 s (Postfix's master lingers ~2 s, Dovecot's lmtp child waits for
    # Postfix's cached LMTP connection to close).
    kill -TERM "${all[@]}" 2>/dev/null || true
    local deadline=$((SECONDS + STOP_TIMEOUT)) left
    while :; do
        mapfile -t left < <(alive_among "${all[@]}")
        ((${#left[@]})) || break
        if ((SECONDS >= deadline)); then
            log "still alive after ${STOP_TIMEOUT}s, sending KILL: ${left[*]}"
            kill -KILL "${left[@]}" 2>/dev/null || true
            sleep 0.2
            break
        fi
        sleep 0.1
    done
    rm -f "$root/postfix-spool/pid/master.pid" "$root/dovecot/run/master.pid"
    log "stopped $root"
}

# --- start -------------------------------------------------------------------

write_dovecot_conf() {
    local root="$1" vmail_uid="$2"
    cat >"$root/dovecot/dovecot.conf" <<EOF
# Generated by scripts/mail-test-servers.sh; self-contained (no conf.d).
base_dir = $root/dovecot/run
state_dir = $root/dovecot/state
instance_name = dovecot-$(basename "$root")
log_path = $root/dovecot.log

protocols = imap lmtp
listen = 127.0.0.1

ssl = yes
ssl_cert = <$root/cert.pem
ssl_key = <$root/key.pem
ssl_dh = </usr/share/dovecot/dh.pem

disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0

first_valid_uid = $vmail_uid
mail_location = maildir:~/Maildir
mail_max_userip_connections = 100

passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $root/dovecot/users
}
userdb {
  driver = passwd-file
  args = username_format=%u $root/dovecot/users
  default_fields = uid=vmail gid=vmail home=$root/mail/%d/%n
}

namespace inbox {
  inbox = yes
}

service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $IMAP_PORT
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $IMAPS_PORT
  }
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = $LMTP_PORT
  }
}
service auth {
  inet_listener auth-inet {
    address = 127.0.0.1
    port = $AUTH_PORT
  }
}
EOF
}

write_postfix_conf() {
    local root="$1"
    local pc="$root/postfix"
    : >"$pc/main.cf"
    cp /etc/postfix/master.cf "$pc/master.cf"
    postconf -c "$pc" -e \
        "compatibility_level = 3.6" \
        "queue_directory = $root/postfix-spool" \
        "data_directory = $root/postfix-data" \
        "maillog_file = $root/postfix.log" \
        "maillog_file_prefixes = /var, /dev/stdout, $root" \
        "syslog_name = postfix-$(basename "$root")" \
        "myhostname = mail.$DOMAIN" \
        "myorigin = $DOMAIN" \
        "mydestination =" \
        "alias_maps =" \
        "alias_database =" \
        "inet_interfaces = 127.0.0.1" \
        "inet_protocols = ipv4" \
        "mynetworks = 127.0.0.0/8" \
        "virtual_mailbox_domains = $DOMAIN" \
        "virtual_mailbox_maps = texthash:$pc/vmailbox" \
        "virtual_transport = lmtp:inet:127.0.0.1:$LMTP_PORT" \
        "recipient_delimiter = +" \
        "smtpd_tls_cert_file = $root/cert.pem" \
        "smtpd_tls_key_file = $root/key.pem" \
        "smtpd_tls_security_level = may" \
        "smtpd_sasl_type = dovecot" \
        "smtpd_sasl_path = inet:127.0.0.1:$AUTH_PORT" \
        "queue_run_delay = 1s" \
        "minimal_backoff_time = 1s" \
        "maximal_backoff_time = 2s"
    # master.cf: no chroot, no port 25; SASL only on the submission port so that
    # the no-AUTH port keeps accepting mail while Dovecot is down.
    postconf -c "$pc" -F '*/*/chroot = n'
    postconf -c "$pc" -MX smtp/inet
    postconf -c "$pc" -M \
        "127.0.0.1:$SMTP_PORT/inet=127.0.0.1:$SMTP_PORT inet n - n - - smtpd" \
        "127.0.0.1:$SUBMISSION_PORT/inet=127.0.0.1:$SUBMISSION_PORT inet n - n - - smtpd"
    postconf -c "$pc" -P \
        "127.0.0.1:$SUBMISSION_PORT/inet/smtpd_sasl_auth_enable=yes" \
        "127.0.0.1:$SUBMISSION_PORT/inet/smtpd_tls_auth_only=yes" \
        "127.0.0.1:$SUBMISSION_PORT/inet/smtpd_client_restrictions=permit_sasl_authenticated,reject"
    # The postfix command re-reads a main.cf modified in the last ~2 s every
    # 0.3 s until it is older, which cost ~1.6 s per start: back-date it.
    touch -d "@$(($(date +%s) - 10))" "$pc/main.cf" "$pc/master.cf"
}

cmd_start() {
    need_root
    local root
    check_root_arg "${1:-}"
    root="$(normalize "$1")"
    installed || die "postfix/dovecot not installed: run '$0 install' first"
    ensure_vmail
    check_port MAIL_SMTP_PORT "$SMTP_PORT"
    check_port MAIL_SUBMISSION_PORT "$SUBMISSION_PORT"
    check_port MAIL_IMAP_PORT "$IMAP_PORT"
    check_port MAIL_LMTP_PORT "$LMTP_PORT"
    check_port MAIL_AUTH_PORT "$AUTH_PORT"
    local ports=("$SMTP_PORT" "$SUBMISSION_PORT" "$IMAP_PORT" "$LMTP_PORT" "$AUTH_PORT")
    if [[ $IMAPS_PORT != 0 ]]; then
        check_port MAIL_IMAPS_PORT "$IMAPS_PORT"
        ports+=("$IMAPS_PORT")
    fi
    [[ $(printf '%s\n' "${ports[@]}" | sort -u | wc -l) -eq ${#ports[@]} ]] \
        || die "the ports must differ: ${ports[*]}"

    cmd_stop "$root"

    local p
    for p in "${ports[@]}"; do
        if port_open "$p"; then die "port 127.0.0.1:$p is already in use"; fi
    done

    mkdir -p "$root"
    chmod 0755 "$root"
    make_parents_traversable "$root"
    mkdir -p "$root/postfix" "$root/postfix-spool" "$root/dovecot" "$root/mail"
    chmod 0755 "$root/postfix" "$root/postfix-spool" "$root/dovecot"
    chown vmail:vmail "$root/mail"
    chmod 0750 "$root/mail"

    # Certificate: CA:FALSE (rustls rejects a CA cert as end entity) and SANs
    # for both localhost and 127.0.0.1. Kept across restarts.
    if [[ ! -s $root/cert.pem || ! -s $root/key.pem ]]; then
        openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=localhost \
            -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
            -addext "basicConstraints=critical,CA:FALSE" \
            -keyout "$root/key.pem" -out "$root/cert.pem" 2>/dev/null \
            || die "openssl failed to make the certificate"
    fi
    chmod 0600 "$root/key.pem"
    chmod 0644 "$root/cert.pem"

    # Users: Dovecot passwd-file and Postfix virtual mailbox map.
    local u users_tmp="$root/dovecot/users.tmp" vmailbox_tmp="$root/postfix/vmailbox.tmp"
    : >"$users_tmp"
    : >"$vmailbox_tmp"
    for u in "${USERS[@]}"; do
        printf '%s@%s:{PLAIN}%s::::::\n' "$u" "$DOMAIN" "$PASSWORD" >>"$users_tmp"
        printf '%s@%s OK\n' "$u" "$DOMAIN" >>"$vmailbox_tmp"
    done
    chown root:dovecot "$users_tmp"
    chmod 0640 "$users_tmp"
    mv -f "$users_tmp" "$root/dovecot/users"
    mv -f "$vmailbox_tmp" "$root/postfix/vmailbox"

    write_dovecot_conf "$root" "$(id -u vmail)"
    write_postfix_conf "$root"

    # Postfix's own quick-start flag (what "postfix quick-stop" leaves) skips
    # the ~2.5 s integrity/permission checks of postfix-script. Only once the
    # first start has created the queue directories.
    if [[ -d $root/postfix-spool/maildrop && -d $root/postfix-spool/pid ]]; then
        touch "$root/postfix-spool/quick-start"
    fi

    # Start. The daemons must not inherit our stdio: Dovecot keeps stderr open
    # for its lifetime, so a caller reading our output through a pipe
    # ($(...), Command::output()) would hang until Dovecot exits.
    # Without a TTY postfix fails silently: errors are in postfix.log.
    if ! dovecot -c "$root/dovecot/dovecot.conf" </dev/null >>"$root/dovecot-start.out" 2>&1; then
        tail -n 20 "$root/dovecot-start.out" >&2 || true
        show_logs "$root"
        die "dovecot failed to start"
    fi
    if ! postfix -c "$root/postfix" start </dev/null >>"$root/postfix-start.out" 2>&1; then
        tail -n 20 "$root/postfix-start.out" >&2 || true
        show_logs "$root"
        cmd_stop "$root" || true
        die "postfix failed to start"
    fi

    local deadline=$((SECONDS + START_TIMEOUT)) missing
    while :; do
        missing=()
        for p in "${ports[@]}"; do
            if ! port_open "$p"; then missing+=("$p"); fi
        done
        ((${#missing[@]})) || break
        if ((SECONDS >= deadline)); then
            show_logs "$root"
            cmd_stop "$root" || true
            die "ports not answering after ${START_TIMEOUT}s: ${missing[*]}"
        fi
        sleep 0.1
    done
    log "running under $root"

    local list=()
    for u in "${USERS[@]}"; do list+=("$u@$DOMAIN"); done
    printf 'ROOT=%s\n' "$root"
    printf 'SMTP_PORT=%s\n' "$SMTP_PORT"
    printf 'SUBMISSION_PORT=%s\n' "$SUBMISSION_PORT"
    printf 'IMAP_PORT=%s\n' "$IMAP_PORT"
    printf 'LMTP_PORT=%s\n' "$LMTP_PORT"
    printf 'AUTH_PORT=%s\n' "$AUTH_PORT"
    printf 'IMAPS_PORT=%s\n' "$IMAPS_PORT"
    printf 'CA_CERT=%s\n' "$root/cert.pem"
    printf 'DOMAIN=%s\n' "$DOMAIN"
    printf 'PASSWORD=%s\n' "$PASSWORD"
    printf 'USERS=%s\n' "$(IFS=,; echo "${list[*]}")"
}

cmd_flush() {
    need_root
    local root
    check_root_arg "${1:-}"
    root="$(normalize "$1")"
    postqueue -c "$root/postfix" -f
}

main() {
    local cmd="${1:-}"
    shift || true
    case "$cmd" in
        install) cmd_install ;;
        start) cmd_start "$@" ;;
        stop) cmd_stop "$@" ;;
        flush) cmd_flush "$@" ;;
        -h | --help | help) usage ;;
        *) usage ;;
    esac
}

main "$@"
