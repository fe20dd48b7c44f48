//! The native functions JIT code calls by address, by name: the runtime's hooks, the builtins and
//! Cranelift's libcalls. A controller sends each name with its address; an executor in another process
//! image places a jump there to its own function of that name (`executor_side.rs`).

use cranelift_codegen::ir::LibCall;

use crate::runtime::builtins::BUILTINS;
use crate::runtime::{HOOKS, lookup_c_symbol};

/// Every native function of this process that generated code may call, with its address.
pub(crate) fn own_natives() -> Vec<(String, usize)> {
    let mut natives = vec![
        ("hook k_raise".to_string(), HOOKS.raise()),
        ("hook k_frame".to_string(), HOOKS.frame()),
        ("hook k_lazy_enter".to_string(), HOOKS.lazy_enter()),
        ("hook k_tier_up".to_string(), HOOKS.tier_up()),
    ];
    natives.extend(BUILTINS.iter().map(|builtin| (["builtin ", builtin.name].concat(), builtin.address())));
    let names = cranelift_module::default_libcall_names();
    for libcall in LibCall::all_libcalls() {
        let name = names(*libcall);
        if let Some(address) = lookup_c_symbol(&name) {
            natives.push((["libcall ", &name].concat(), address));
        }
    }
    natives
}
