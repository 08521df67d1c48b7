//! Protobuf contracts of the platform, generated at build time.

pub mod common {
    pub mod v1 {
        include!(concat!(env!("OUT_DIR"), "/pd.common.v1.rs"));
    }
}

pub mod identity {
    pub mod v1 {
        include!(concat!(env!("OUT_DIR"), "/pd.identity.v1.rs"));
    }
}

pub use prost::Message;

pub mod registry {
    pub mod v1 {
        include!(concat!(env!("OUT_DIR"), "/pd.registry.v1.rs"));
    }
}

pub mod allocation {
    pub mod v1 {
        include!(concat!(env!("OUT_DIR"), "/pd.allocation.v1.rs"));
    }
}

pub mod enrollment {
    pub mod v1 {
        include!(concat!(env!("OUT_DIR"), "/pd.enrollment.v1.rs"));
    }
}

pub mod monitoring {
    pub mod v1 {
        include!(concat!(env!("OUT_DIR"), "/pd.monitoring.v1.rs"));
    }
}

pub mod surveys {
    pub mod v1 {
        include!(concat!(env!("OUT_DIR"), "/pd.surveys.v1.rs"));
    }
}

/// A request/reply operation of a service: its name, request and reply
/// types declared once (in [`ops`]) and used on both sides, so a caller
/// and the service cannot disagree on a name or a type and still compile.
pub trait Operation: Copy + Send + Sync + 'static {
    /// The service answering it.
    const SERVICE: &'static str;
    /// The operation's part of the subject `<prefix>.<service>.rpc.<name>.v1`.
    const NAME: &'static str;
    /// It creates something and honours `Idempotency-Key` (never an
    /// operation whose answer carries a secret: answers are stored).
    const CREATES: bool;
    /// A read that screens repeat on a timer (seats left): the service
    /// runs it only with slots to spare and never queues it, so a storm of
    /// such reads cannot crowd out the writes (applications at the
    /// window's opening). Refused, the caller retries after 5 s.
    const BACKGROUND: bool;
    type Request: Message + Default + Send + Sync + 'static;
    type Response: Message + Default + Send + Sync + 'static;
}

/// Declares operations as unit structs implementing [`Operation`]:
/// `Name = "wire_name": Request => Response[, creates][, background];`
#[macro_export]
macro_rules! operations {
    (service $service:literal; $($op:ident = $name:literal: $req:ty => $resp:ty $(, $flag:ident)*;)*) => {
        $(
            #[doc = concat!("`", $service, ".", $name, "`")]
            #[derive(Debug, Clone, Copy)]
            pub struct $op;
            impl $crate::Operation for $op {
                const SERVICE: &'static str = $service;
                const NAME: &'static str = $name;
                const CREATES: bool = $crate::operations!(@has creates; $($flag)*);
                const BACKGROUND: bool = $crate::operations!(@has background; $($flag)*);
                type Request = $req;
                type Response = $resp;
            }
        )*
        /// Every operation of the service, by name.
        pub const ALL: &[&str] = &[$($name),*];
        /// Every operation of the service by name, with whether it is
        /// `background` (the gateway classes their routes the same way).
        pub const BACKGROUND: &[(&str, bool)] =
            &[$(($name, $crate::operations!(@has background; $($flag)*))),*];
    };
    // Whether a flag is among an operation's (an unknown flag fails to compile).
    (@has $want:ident;) => { false };
    (@has creates; creates $($rest:ident)*) => { true };
    (@has background; background $($rest:ident)*) => { true };
    (@has $want:ident; creates $($rest:ident)*) => { $crate::operations!(@has $want; $($rest)*) };
    (@has $want:ident; background $($rest:ident)*) => { $crate::operations!(@has $want; $($rest)*) };
}

/// The operations of each service.
pub mod ops {
    pub mod allocation;
    pub mod enrollment;
    pub mod identity;
    pub mod monitoring;
    pub mod registry;
    pub mod surveys;
}

#[cfg(test)]
mod tests {
    use super::Operation;
    use super::ops::enrollment::{Apply, ApplyRoute, Availability, Withdraw};

    /// Checked when the tests compile: a flag lost or misread fails the build.
    #[test]
    fn operations_carry_their_flags_in_any_order() {
        crate::operations! {
            service "flags";
            Both = "both": crate::common::v1::Empty => crate::common::v1::Empty, background, creates;
        }
        const { assert!(Apply::CREATES && !Apply::BACKGROUND) };
        const { assert!(ApplyRoute::CREATES && !ApplyRoute::BACKGROUND) };
        const { assert!(Availability::BACKGROUND && !Availability::CREATES) };
        const { assert!(!Withdraw::CREATES && !Withdraw::BACKGROUND) };
        const { assert!(Both::CREATES && Both::BACKGROUND) };
        assert_eq!(ALL, &["both"]);
        assert_eq!(BACKGROUND, &[("both", true)]);
    }
}
