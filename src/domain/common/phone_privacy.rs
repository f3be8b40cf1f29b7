//! Who reads a person's phone number in full: the one rule, for every renderer, export and sync
//! feed.
//!
//! A number is shown in full to the managers of the scope (their role says so) and to the member
//! of staff the person is in the care of — the user themself for a staff number, the owner of a
//! partner or a lead, the owner of the event an attendee registered for — unless the person asked
//! not to be contacted, in which case only managers see it. Everyone else, and the audit log,
//! sees `138****5678`. Callers say whose care the person is in; they never decide the rule.

use uuid::Uuid;

use super::actor::Actor;
use super::phone::mask;

/// Whether the person behind a number agreed to be contacted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contact {
    Allowed,
    /// The person asked not to be contacted: their carer loses the full number too.
    DoNotContact,
}

impl Contact {
    pub fn from_do_not_contact(do_not_contact: bool) -> Contact {
        if do_not_contact { Contact::DoNotContact } else { Contact::Allowed }
    }
}

/// The person behind a number, as far as the rule needs to know them.
#[derive(Debug, Clone, Copy)]
pub struct PhoneHolder {
    /// The member of staff the person is in the care of (for a staff number: the user).
    pub carer: Uuid,
    pub contact: Contact,
}

impl PhoneHolder {
    /// A person in `carer`'s care who has not opted out of contact.
    pub fn in_care_of(carer: Uuid) -> PhoneHolder {
        PhoneHolder { carer, contact: Contact::Allowed }
    }

    pub fn with_contact(self, contact: Contact) -> PhoneHolder {
        PhoneHolder { contact, ..self }
    }

    /// Whether `viewer` reads this person's number in full.
    pub fn shown_in_full_to(&self, viewer: &Actor) -> bool {
        viewer.role.sees_full_phones() || (viewer.user_id == self.carer && self.contact == Contact::Allowed)
    }

    /// The number as `viewer` may read it: full, or masked.
    pub fn show(&self, viewer: &Actor, phone: String) -> String {
        if self.shown_in_full_to(viewer) { phone } else { mask(&phone) }
    }
}

/// The number as the audit log keeps it: masked, since the log is read by supervisors who may
/// not read it in full, and it is append-only, so it must never hold more than the least of them.
pub fn for_the_audit_log(phone: &str) -> String {
    mask(phone)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Role;

    fn actor(role: Role) -> Actor {
        Actor { user_id: Uuid::new_v4(), role, org_unit_id: None, org_path: "/b/".to_owned() }
    }

    #[test]
    fn managers_see_all_carers_their_own_others_masked() {
        let carer = actor(Role::AccountManager);
        let colleague = actor(Role::AccountManager);
        let manager = actor(Role::BranchManager);
        let holder = PhoneHolder::in_care_of(carer.user_id);
        let phone = || "13812345678".to_owned();
        assert_eq!(holder.show(&carer, phone()), "13812345678");
        assert_eq!(holder.show(&manager, phone()), "13812345678");
        assert_eq!(holder.show(&colleague, phone()), "138****5678");
    }

    #[test]
    fn do_not_contact_leaves_the_number_to_managers() {
        let carer = actor(Role::AccountManager);
        let manager = actor(Role::SubBranchManager);
        let holder = PhoneHolder::in_care_of(carer.user_id).with_contact(Contact::DoNotContact);
        assert!(!holder.shown_in_full_to(&carer));
        assert!(holder.shown_in_full_to(&manager));
    }
}
