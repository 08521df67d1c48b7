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
