//! Machine code for people (`:asm`): disassembled with iced-x86 and annotated, so a reader sees the story
//! of each instruction. Addresses the engine knows are printed by name (`slot fib/1`, `abort word`,
//! `builtin sin`), never as numbers that change from run to run; jumps within the function are offsets;
//! and comments say what a sequence does: the stack and interrupt check, the call through a slot (which
//! function and arity), the abort test after it, direct calls to the function itself, the exit path.

use std::collections::HashMap;

use iced_x86::{
    Decoder, DecoderOptions, Formatter, Instruction, IntelFormatter, Mnemonic, OpKind, Register, SymbolResolver,
    SymbolResult,
};

use kaleido_engine::{Engine, Listing, format_value};

use crate::report::{address_text, describe_address, notes_text, subject_text};

/// `listing` as annotated assembly: a title, then one line per instruction (`+0x1c  call rcx  ; ...`),
/// then the constants Cranelift placed after the code.
pub fn asm_text(engine: &Engine, listing: &Listing) -> String {
    let start = listing.address as u64;
    let mut decoder = Decoder::with_ip(64, &listing.code, start, DecoderOptions::NONE);
    let instructions: Vec<Instruction> = decoder.iter().collect();
    // Constants follow the code: the first address read RIP-relative marks where the code ends.
    let code_end = (instructions.iter())
        .filter(|i| i.is_ip_rel_memory_operand())
        .map(|i| i.ip_rel_memory_address())
        .filter(|&a| a > start && a < start + listing.code.len() as u64)
        .min()
        .unwrap_or(start + listing.code.len() as u64);
    let mut names = known_addresses(engine, &instructions, start, code_end);
    names.extend(listing.names.iter().map(|(address, name)| (*address as u64, address_text(name))));
    // Constants are named by their offset and value (`+0x140 = 3`).
    let constants: Vec<(u64, f64)> = (instructions.iter())
        .filter(|i| i.is_ip_rel_memory_operand())
        .map(|i| i.ip_rel_memory_address())
        .filter(|&a| a >= code_end && a + 8 <= start + listing.code.len() as u64)
        .map(|a| {
            let at = (a - start) as usize;
            (a, f64::from_le_bytes(listing.code[at..at + 8].try_into().unwrap_or([0; 8])))
        })
        .collect();
    for &(address, value) in &constants {
        names.insert(address, format!("const +0x{:03x} = {}", address - start, format_value(value)));
    }
    // The padding between the code and its constants decodes as `add [rax],al`: leave it out.
    let mut code = instructions.iter().take_while(|i| i.ip() < code_end).collect::<Vec<_>>();
    while code.last().is_some_and(|i| is_padding(&listing.code, (i.ip() - start) as usize, i.len())) {
        code.pop();
    }
    let mut formatter = IntelFormatter::with_options(Some(Box::new(Names(names.clone()))), None);
    formatter.options_mut().set_first_operand_char_index(8);
    formatter.options_mut().set_rip_relative_addresses(false);
    let mut text = header(listing);
    let mut story = Story::default();
    for instruction in code {
        let mut line = String::new();
        formatter.format(instruction, &mut line);
        let comment = story.comment(instruction, &names, start);
        let offset = format!("+0x{:03x}", instruction.ip() - start);
        match comment {
            Some(comment) => text.push_str(&format!("  {offset}  {line:<40} ; {comment}\n")),
            None => text.push_str(&format!("  {offset}  {line}\n")),
        }
    }
    text
}

/// `listing`'s Cranelift IR, under the same header, with the addresses the engine knows written as
/// their names (`<slot fib/1>`), which also keeps the text the same from run to run.
pub fn clif_text(engine: &Engine, listing: &Listing) -> String {
    let forgotten =
        |value: u64| listing.names.iter().find(|(a, _)| *a as u64 == value).map(|(_, name)| address_text(name));
    let mut text = header(listing);
    let mut rest = listing.clif.as_str();
    while let Some(at) = rest.find("0x") {
        text.push_str(&rest[..at]);
        let digits =
            rest[at + 2..].find(|c: char| !(c.is_ascii_hexdigit() || c == '_')).map_or(rest.len(), |n| at + 2 + n);
        let literal = &rest[at..digits];
        let value = u64::from_str_radix(&literal[2..].replace('_', ""), 16).ok();
        match value.and_then(|v| describe_address(engine, v as usize).or_else(|| forgotten(v))) {
            Some(name) => text.push_str(&format!("<{name}>")),
            None => text.push_str(literal),
        }
        rest = &rest[digits..];
    }
    text.push_str(rest);
    text
}

fn header(listing: &Listing) -> String {
    let mut text = format!("; {} ({} bytes of machine code)\n", subject_text(&listing.subject), listing.code.len());
    if let Some(note) = notes_text(&listing.notes) {
        text.push_str(&format!("; {note}\n"));
    }
    text
}

/// The name of every address the code mentions that the engine knows, and of every place in the code a
/// jump reaches (`+0x2c`).
fn known_addresses(engine: &Engine, instructions: &[Instruction], start: u64, end: u64) -> HashMap<u64, String> {
    let mut names = HashMap::new();
    for instruction in instructions {
        let mut candidates = Vec::new();
        for operand in 0..instruction.op_count() {
            match instruction.op_kind(operand) {
                OpKind::Immediate64 | OpKind::Immediate32to64 => candidates.push(instruction.immediate64()),
                OpKind::NearBranch64 => candidates.push(instruction.near_branch64()),
                _ => {}
            }
        }
        for address in candidates {
            if (start..end).contains(&address) {
                names.insert(address, format!("+0x{:03x}", address - start));
            } else if let Some(name) = describe_address(engine, address as usize) {
                names.insert(address, name);
            }
        }
    }
    names
}

/// Prints known addresses by name.
struct Names(HashMap<u64, String>);

impl SymbolResolver for Names {
    fn symbol(&mut self, _: &Instruction, _: u32, _: Option<u32>, address: u64, _: u32) -> Option<SymbolResult<'_>> {
        let name = self.0.get(&address)?;
        Some(SymbolResult::with_str(address, name.as_str()))
    }
}

/// What registers hold, followed instruction by instruction, to explain calls and tests.
#[derive(Default)]
struct Story {
    /// A register loaded with a known address: the address.
    addresses: HashMap<Register, u64>,
    /// A register loaded from a slot: the slot's name (`slot fib/1`).
    slot_code: HashMap<Register, String>,
    /// The register loaded from the abort word or the stack limit.
    loaded_word: HashMap<Register, &'static str>,
}

impl Story {
    fn comment(&mut self, instruction: &Instruction, names: &HashMap<u64, String>, start: u64) -> Option<String> {
        let target = instruction.op0_register();
        let comment = match instruction.mnemonic() {
            Mnemonic::Mov if instruction.op_count() == 2 && is_immediate(instruction.op1_kind()) => {
                let value = instruction.immediate64();
                match names.get(&value) {
                    Some(name) => {
                        self.addresses.insert(target, value);
                        Some(format!("the address of {name}"))
                    }
                    // A 64-bit immediate that is no address is a number's bits, on its way to an xmm register.
                    None if instruction.op1_kind() == OpKind::Immediate64
                        && (value == 0 || f64::from_bits(value).is_normal()) =>
                    {
                        Some(format!("the bits of {}", format_value(f64::from_bits(value))))
                    }
                    None => None,
                }
            }
            Mnemonic::Mov if instruction.op1_kind() == OpKind::Memory => self.load(instruction, names),
            Mnemonic::Call => self.call(instruction, names, start),
            Mnemonic::Cmp | Mnemonic::Test => self.test(instruction),
            Mnemonic::Ret => Some("return".to_string()),
            _ => None,
        };
        // Whatever the instruction wrote to its first register operand replaces what was known of it.
        if comment.is_none() && instruction.op_count() > 0 && instruction.op0_kind() == OpKind::Register {
            self.forget(target);
        }
        comment
    }

    fn load(&mut self, instruction: &Instruction, names: &HashMap<u64, String>) -> Option<String> {
        let base = *self.addresses.get(&instruction.memory_base())?;
        let address = base.wrapping_add(instruction.memory_displacement64());
        let target = instruction.op0_register();
        self.forget(target);
        let name = names.get(&address).cloned().or_else(|| names.get(&base).cloned())?;
        if name.starts_with("slot ") {
            self.slot_code.insert(target, name.clone());
            return Some(format!("the current code of {name}"));
        }
        match name.as_str() {
            "abort word" => {
                self.loaded_word.insert(target, "abort word");
                Some("load the abort word: did the call raise an error?".to_string())
            }
            "stack limit" => {
                self.loaded_word.insert(target, "stack limit");
                Some("load the stack limit (lowered to interrupt)".to_string())
            }
            _ if name.starts_with("global ") => Some(format!("read {name}")),
            _ if name.starts_with("call counter ") => {
                Some("load the call count; one less is stored back, and at zero the optimizing tier recompiles".into())
            }
            _ => None,
        }
    }

    fn call(&mut self, instruction: &Instruction, names: &HashMap<u64, String>, start: u64) -> Option<String> {
        if instruction.op0_kind() == OpKind::NearBranch64 {
            let target = instruction.near_branch64();
            return match target == start {
                true => Some("a direct call to itself (recursion skips the table)".to_string()),
                false => names.get(&target).map(|name| format!("call {name}")),
            };
        }
        let register = instruction.op0_register();
        if let Some(slot) = self.slot_code.get(&register) {
            return Some(format!("call through {slot}: whatever version is current"));
        }
        let address = self.addresses.get(&register)?;
        names.get(address).map(|name| format!("call {name}"))
    }

    fn test(&self, instruction: &Instruction) -> Option<String> {
        let registers = [instruction.op0_register(), instruction.op1_register()];
        if registers.contains(&Register::RSP) {
            return Some("the stack and interrupt check: below the limit means overflow or Ctrl-C".to_string());
        }
        let word = registers.iter().find_map(|r| self.loaded_word.get(r))?;
        match *word {
            "abort word" => Some("the abort test: if set, leave through the exit path".to_string()),
            _ => Some("the stack and interrupt check: below the limit means overflow or Ctrl-C".to_string()),
        }
    }

    fn forget(&mut self, register: Register) {
        self.addresses.remove(&register);
        self.slot_code.remove(&register);
        self.loaded_word.remove(&register);
    }
}

/// Whether the `len` bytes at `at` are zero (alignment padding).
fn is_padding(code: &[u8], at: usize, len: usize) -> bool {
    code.get(at..at + len).is_some_and(|bytes| bytes.iter().all(|&b| b == 0))
}

fn is_immediate(kind: OpKind) -> bool {
    matches!(kind, OpKind::Immediate64 | OpKind::Immediate32to64 | OpKind::Immediate32)
}
