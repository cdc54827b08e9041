//! Dropping root once the sockets are open.
//!
//! Capture needs CAP_NET_RAW and the kernel events CAP_NET_ADMIN, but only
//! to open their sockets; reading from them afterwards needs nothing. So the
//! agent opens every source and sink, then becomes an ordinary user before
//! it parses a single packet: the packet parsers never run with privileges.
//! Changing the user id away from 0 clears every capability (the kernel's
//! rule without `PR_SET_KEEPCAPS`), and the change is checked to be final.

use anyhow::{anyhow, bail, Context, Result};
use nix::unistd::{getgid, getgroups, getuid, setgid, setgroups, setuid, Gid, Uid, User};

/// Who the agent runs as after [`drop_to`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunningAs {
    /// The user name.
    pub user: String,
    /// Its user id.
    pub uid: u32,
    /// Its primary group id (the only group kept).
    pub gid: u32,
}

/// Become `user` (a name, or a numeric uid): supplementary groups cleared,
/// then the group and user ids set, then checked that root cannot be
/// regained. Must be called as root.
pub fn drop_to(user: &str) -> Result<RunningAs> {
    let entry = match user.parse::<u32>() {
        Ok(uid) => User::from_uid(Uid::from_raw(uid)),
        Err(_) => User::from_name(user),
    }
    .with_context(|| format!("looking up user {user:?}"))?
    .ok_or_else(|| anyhow!("--user {user}: no such user"))?;
    if !getuid().is_root() {
        bail!(
            "--user {user}: changing the user needs root (the agent runs as uid {}); \
             start it as root, or leave --user out and grant only the capabilities \
             (setcap cap_net_raw,cap_net_admin+ep)",
            getuid()
        );
    }
    let gid = entry.gid;
    setgroups(&[gid]).context("clearing the supplementary groups")?;
    setgid(gid).with_context(|| format!("setting the group id to {gid}"))?;
    setuid(entry.uid).with_context(|| format!("setting the user id to {}", entry.uid))?;
    check_final(entry.uid, gid)?;
    Ok(RunningAs {
        user: entry.name,
        uid: entry.uid.as_raw(),
        gid: gid.as_raw(),
    })
}

fn check_final(uid: Uid, gid: Gid) -> Result<()> {
    if getuid() != uid || getgid() != gid {
        bail!("the user and group ids did not change to {uid}:{gid}");
    }
    if getgroups().is_ok_and(|g| g.iter().any(|&x| x != gid)) {
        bail!("supplementary groups are still set after dropping privileges");
    }
    // A non-root uid must not be able to go back (it could if the saved
    // set-user-id were still 0).
    if !uid.is_root() && setuid(Uid::from_raw(0)).is_ok() {
        bail!("root could be regained after dropping privileges");
    }
    Ok(())
}
