//! The portal's own words, in Swedish (the default) and English, each under a code. What the
//! rules say (reasons) is not here: it comes from the rule set's messages through the API, so a
//! landlord's own rules speak in the portal unchanged.

use tillval_engine::model::Language;

macro_rules! texts {
    ($($name:ident => $sv:literal, $en:literal;)*) => {
        /// A text of the portal's, by code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Text {
            $($name,)*
        }

        impl Text {
            pub fn get(self, language: Language) -> &'static str {
                match (self, language) {
                    $((Text::$name, Language::Sv) => $sv,
                    (Text::$name, Language::En) => $en,)*
                }
            }

            /// The code under which the text is kept (the variant's name): what a translator or
            /// a test names it by.
            #[allow(dead_code)]
            pub fn code(self) -> &'static str {
                match self {
                    $(Text::$name => stringify!($name),)*
                }
            }

            #[allow(dead_code)]
            pub const ALL: &'static [Text] = &[$(Text::$name,)*];
        }
    };
}

texts! {
    SiteName => "Mina sidor", "My pages";
    SkipToContent => "Hoppa till innehållet", "Skip to content";
    MainMenu => "Huvudmeny", "Main menu";
    AddOns => "Tillval", "Add-ons";
    Cart => "Varukorg", "Cart";
    Cases => "Ärenden", "Cases";
    OtherLanguage => "English", "Svenska";
    OtherLanguageName => "Read in English", "Läs på svenska";
    SignOut => "Logga ut", "Sign out";
    SignIn => "Logga in", "Sign in";
    SignInAs => "Logga in som …", "Sign in as …";
    SignInAsButton => "Logga in som", "Sign in as";
    SignInDemoLead => "Det här är demons inloggning: välj en hyresgäst. I drift loggar hyresgästen in med sin hyresvärds inloggning (till exempel BankID).", "This is the demo's sign-in: pick a tenant. In production, tenants sign in with their landlord's sign-in (for example BankID).";
    SignInElsewhere => "Logga in via din hyresvärds inloggning för att se dina tillval.", "Sign in through your landlord's sign-in to see your add-ons.";
    SeedFree => "kan beställa", "may order";
    SeedDebt => "har en skuld", "has a debt";
    SeedOngoingOrder => "har en pågående beställning", "has an ongoing order";
    SeedUnpaidFee => "har en avgift som inte är färdigbetald", "has a fee not fully paid";
    SeedPieceUnit => "beställer styckvis", "orders by the piece";
    CategoriesTitle => "Tillval för din lägenhet", "Add-ons for your apartment";
    CategoriesLead => "Välj en kategori för att se vad du kan beställa.", "Choose a category to see what you can order.";
    CartEmpty => "Varukorgen är tom.", "The cart is empty.";
    CartArticles => "Varukorgen: {n} artiklar", "Cart: {n} articles";
    CartArticlesShort => "{n} artiklar", "{n} articles";
    CartArticleOne => "Varukorgen: 1 artikel", "Cart: 1 article";
    CartArticleOneShort => "1 artikel", "1 article";
    NoCategories => "Det finns inga tillval för din lägenhet just nu.", "There are no add-ons for your apartment right now.";
    OptionsInCategory => "{n} tillval", "{n} add-ons";
    SeeGate => "Du kan inte beställa tillval just nu; se skälet överst på sidan.", "You cannot order add-ons right now; see the reason at the top of the page.";
    GateTitle => "Du kan inte beställa tillval just nu", "You cannot order add-ons right now";
    BackToCategories => "Tillbaka till kategorier", "Back to categories";
    ToCheckout => "Till kassan", "To checkout";
    Order => "Beställ", "Order";
    Quantity => "Antal", "Quantity";
    Decrease => "Minska antal", "Decrease quantity";
    Increase => "Öka antal", "Increase quantity";
    PerMonth => "{price} per månad", "{price} per month";
    OneTimeFee => "Engångsavgift: {price}", "One-time fee: {price}";
    NoOneTimeFee => "Ingen engångsavgift", "No one-time fee";
    Space => "Utrymme: {space}", "Space: {space}";
    UnitPiece => "Styckvis, högst {n}", "By the piece, at most {n}";
    UnitSingle => "En per beställning", "One per order";
    InCart => "Ligger i varukorgen", "In the cart";
    Unavailable => "Kan inte beställas:", "Cannot be ordered:";
    RuleErrorShort => "Kan inte bedömas just nu. Försök igen senare.", "Cannot be decided right now. Please try again later.";
    MorePictures => "Visa större bilder av {name}", "Show larger pictures of {name}";
    PicturesTitle => "Bilder: {name}", "Pictures: {name}";
    PictureOf => "Bild {n} av {total}", "Picture {n} of {total}";
    Added => "{name} ligger nu i varukorgen.", "{name} is now in the cart.";
    CheckoutTitle => "Kassa", "Checkout";
    CartLines => "I varukorgen", "In the cart";
    Article => "Tillval", "Add-on";
    MonthlyCost => "Per månad", "Per month";
    OneTimeCost => "Engångsavgift", "One-time fee";
    Total => "Totalt", "Total";
    ChangeQuantity => "Ändra antal", "Change quantity";
    Remove => "Ta bort", "Remove";
    LineRemoved => "Tillvalet är borttaget ur varukorgen.", "The add-on is removed from the cart.";
    QuantityChanged => "Antalet är ändrat.", "The quantity is changed.";
    LineProblem => "Kan inte längre beställas:", "Can no longer be ordered:";
    DetailsTitle => "Uppgifter om beställningen", "Order details";
    ContactPhone => "Telefonnummer", "Phone number";
    ContactPhoneHint => "Så att vi kan nå dig om installationen, till exempel 070-123 45 67.", "So that we can reach you about the installation, for example 070-123 45 67.";
    PreferredDate => "Önskat datum (valfritt)", "Preferred date (optional)";
    Message => "Meddelande (valfritt)", "Message (optional)";
    PreferredDateShort => "Önskat datum", "Preferred date";
    MessageShort => "Meddelande", "Message";
    SaveDetails => "Spara uppgifter", "Save details";
    DetailsSaved => "Uppgifterna är sparade.", "The details are saved.";
    TermsTitle => "Villkor", "Terms";
    AcceptTerms => "Jag godkänner villkoren", "I accept the terms";
    SendOrder => "Skicka beställning", "Send order";
    ErrorSummaryTitle => "Det finns ett problem", "There is a problem";
    AcceptTermsRequired => "Kryssa i att du godkänner villkoren för att skicka beställningen.", "Tick that you accept the terms to send the order.";
    SentTitle => "Beställningen är skickad", "The order is sent";
    SentCaseNumber => "Ditt ärendenummer", "Your case number";
    SentNext => "Du kan följa ärendet här och under Ärenden.", "You can follow the case here and under Cases.";
    CasesTitle => "Dina ärenden", "Your cases";
    NoCases => "Du har inga ärenden än.", "You have no cases yet.";
    CaseNumber => "Ärendenummer", "Case number";
    Created => "Skapat", "Created";
    Status => "Status", "Status";
    Contents => "Innehåll", "Contents";
    CaseTitle => "Ärende {number}", "Case {number}";
    History => "Historik", "History";
    ActorTenant => "Du", "You";
    ActorStaff => "Hyresvärden", "The landlord";
    CancelCase => "Avbryt ärendet", "Cancel the case";
    CaseCancelled => "Ärendet är avbrutet.", "The case is cancelled.";
    BackToCases => "Tillbaka till ärenden", "Back to cases";
    StatusChanged => "Ärende {number} har nu status: {status}", "Case {number} now has the status: {status}";
    AcceptedTermsVersion => "Godkända villkor, version {n}", "Accepted terms, version {n}";
    NotGiven => "Inte angivet", "Not given";
    StatusSubmitted => "Skickad", "Sent";
    StatusUnderReview => "Granskas", "Under review";
    StatusApproved => "Godkänd", "Approved";
    StatusScheduled => "Inplanerad", "Scheduled";
    StatusInstalled => "Installerad", "Installed";
    StatusRejected => "Avslagen", "Rejected";
    StatusCancelled => "Avbruten", "Cancelled";
    NotFoundTitle => "Sidan finns inte", "Page not found";
    NotFoundLead => "Det du letar efter finns inte, eller så är det inte ditt.", "What you are looking for does not exist, or is not yours.";
    ForbiddenTitle => "Det gick inte", "That did not work";
    ForbiddenLead => "Formuläret hade gått ut. Gå tillbaka, ladda om sidan och försök igen.", "The form had expired. Go back, reload the page and try again.";
    UnavailableTitle => "Tjänsten svarar inte just nu", "The service is not answering right now";
    UnavailableLead => "Försök igen om en stund.", "Please try again in a moment.";
    BadInputTitle => "Något i formuläret stämmer inte", "Something in the form is not right";
    Apartment => "Lägenhet", "Apartment";
    StaffRules => "Regler", "Rules";
    StaffRulesTitle => "Reglerna som gäller", "The rules in force";
    StaffRulesLead => "Ändra filerna, kontrollera dem, se vad ändringen gör för varje hushåll, och publicera. Inget ändras förrän du publicerar.", "Change the files, check them, see what the change does to every household, and publish. Nothing changes until you publish.";
    StaffOnlyTitle => "Bara för hyresvärdens personal", "For the landlord's staff only";
    StaffOnlyLead => "Den här sidan kräver en inloggning som personal.", "This page needs a staff sign-in.";
    SignInStaff => "Logga in som personal", "Sign in as staff";
    Validate => "Kontrollera", "Check";
    Preview => "Förhandsgranska påverkan", "Preview the impact";
    Publish => "Publicera", "Publish";
    Files => "Filer", "Files";
    Problems => "Problem", "Problems";
    NoProblems => "Inga problem. {passed} av {run} testfall gick igenom.", "No problems. {passed} of {run} test cases passed.";
    CoverageTitle => "Täckning av testfallen", "Test case coverage";
    NotCovered => "inget testfall", "no test case";
    CasesCount => "{n} testfall", "{n} test cases";
    ImpactTitle => "Påverkan på hushållen", "Impact on the households";
    ImpactSummary => "{changed} av {households} hushåll påverkas: {blocked} tillval blir spärrade, {available} blir möjliga att beställa, {other} spärras av andra skäl.", "{changed} of {households} households change: {blocked} add-ons become blocked, {available} become orderable, {other} are blocked for other reasons.";
    ImpactNone => "Ändringen påverkar inget hushåll.", "The change affects no household.";
    ByReason => "Per skäl", "By reason";
    ByOption => "Per tillval", "By add-on";
    ReasonCode => "Skäl", "Reason";
    NewlyBlocked => "Blir spärrade", "Become blocked";
    NewlyAvailable => "Blir möjliga", "Become orderable";
    ReasonsChanged => "Andra skäl", "Other reasons";
    Households => "Hushåll", "Households";
    ScriptErrors => "Skriptfel", "Script errors";
    PublishedVersion => "Version {version} är publicerad och gäller nu.", "Version {version} is published and in force now.";
    Versions => "Versioner", "Versions";
    Version => "Version", "Version";
    PublishedBy => "Publicerad av", "Published by";
    InForce => "Gäller nu", "In force";
    MakeActive => "Gör version {version} gällande", "Make version {version} the one in force";
    RolledBack => "Version {version} gäller nu.", "Version {version} is in force now.";
    CompareWithActive => "Jämför version {version} med den som gäller", "Compare version {version} with the one in force";
    DiffTitle => "Version {from} och version {to}", "Version {from} and version {to}";
    FileSame => "oförändrad", "unchanged";
    FileAdded => "ny", "new";
    FileRemoved => "borttagen", "removed";
    FileChanged => "ändrad", "changed";
    PreviewVersion => "Förhandsgranska version {version} mot den som gäller", "Preview version {version} against the one in force";
    BackToRules => "Tillbaka till reglerna", "Back to the rules";
    CaseQueueTitle => "Ärenden att hantera", "Cases to handle";
    AllStatuses => "Alla", "All";
    MoveTo => "Till: {status}", "To: {status}";
    CaseMoved => "Ärende {number} har nu status: {status}", "Case {number} now has the status: {status}";
    FilterByStatus => "Visa status", "Show status";
    PhoneInvalid => "Skriv ett telefonnummer med 6–20 siffror, till exempel 070-123 45 67.", "Enter a phone number of 6–20 digits, for example 070-123 45 67.";
    DetailsInvalid => "Datumet kan inte ha passerat, och meddelandet får vara högst 1 000 tecken.", "The date cannot be in the past, and the message can be at most 1,000 characters.";
    QuantityInvalid => "Välj ett antal från 1 till det största som går att beställa.", "Choose a quantity from 1 to the most that can be ordered.";
    OrderRefused => "Det gick inte att beställa:", "The order did not go through:";
    CaseRefused => "Ärendet kunde inte ändras:", "The case could not be changed:";
    StaffLedger => "Reskontra", "Ledger";
    StaffCatalogue => "Katalog", "Catalogue";
    StaffDecisions => "Beslut", "Decisions";
    HouseholdsTitle => "Hushåll", "Households";
    Tenant => "Hyresgäst", "Tenant";
    Address => "Adress", "Address";
    MoreHouseholds => "Fler hushåll", "More households";
    LedgerLead => "Välj en hyresgäst för att se skulden och avgifterna och registrera en betalning.", "Pick a tenant to see their debt and fees and record a payment.";
    LedgerOf => "Reskontra: {name}", "Ledger: {name}";
    Debt => "Skuld", "Debt";
    NoDebt => "Ingen skuld.", "No debt.";
    DebtIs => "Skulden är {amount}.", "The debt is {amount}.";
    DebtAmountLabel => "Ny skuld i kronor (0 tar bort den)", "New debt in kronor (0 clears it)";
    SaveDebt => "Spara skulden", "Save the debt";
    DebtSaved => "Skulden är nu {amount}.", "The debt is now {amount}.";
    Fees => "Avgifter", "Fees";
    NoFees => "Inga avgifter.", "No fees.";
    FeeAmount => "Avgift", "Fee";
    Paid => "Betalt", "Paid";
    Remaining => "Kvar", "Remaining";
    FullyPaid => "Betald", "Paid in full";
    PaymentAmountLabel => "Betalning i kronor", "Payment in kronor";
    RecordPayment => "Registrera betalningen", "Record the payment";
    PaymentRecorded => "Betalningen är registrerad. Kvar på avgiften för ärende {number}: {remaining}.", "The payment is recorded. Remaining on the fee for case {number}: {remaining}.";
    AmountInvalid => "Skriv ett belopp i kronor, till exempel 1 850 eller 249,50.", "Enter an amount in kronor, for example 1850 or 249.50.";
    KronorHint => "I kronor, till exempel 249 eller 249,50.", "In kronor, for example 249 or 249.50.";
    CatalogueAdminTitle => "Tillvalskatalogen", "The add-on catalogue";
    CatalogueAdminLead => "Välj en fastighet för att se och ändra dess tillval. En ändring syns för hyresgästerna direkt.", "Pick a property to see and change its add-ons. A change shows to tenants at once.";
    Property => "Fastighet", "Property";
    CatalogueOf => "Katalog: {name}", "Catalogue: {name}";
    Picture => "Bild", "Picture";
    Name => "Namn", "Name";
    Category => "Kategori", "Category";
    SpaceColumn => "Utrymme", "Space";
    MonthlyPrice => "Pris per månad", "Price per month";
    OneTimeFeeColumn => "Engångsavgift", "One-time fee";
    Unit => "Enhet", "Unit";
    UnitPieceShort => "Styck", "Piece";
    MaxQuantity => "Högst antal", "Most at once";
    Position => "Ordning", "Position";
    Edit => "Ändra", "Edit";
    AddOption => "Lägg till ett tillval", "Add an add-on";
    EditOption => "Ändra {name}", "Edit {name}";
    Handle => "Nyckel", "Key";
    HandleHint => "Små bokstäver, siffror och bindestreck. Samma nyckel ersätter tillvalet.", "Lower-case letters, digits and hyphens. The same key replaces the add-on.";
    Description => "Beskrivning", "Description";
    PictureThumbnail => "Bildens adress, liten", "Picture address, small";
    PictureLarge => "Bildens adress, stor", "Picture address, large";
    PictureAlt => "Vad bilden visar", "What the picture shows";
    SaveOption => "Spara tillvalet", "Save the add-on";
    OptionSaved => "{name} är sparat och syns nu för hyresgästerna.", "{name} is saved and shows to tenants now.";
    WholeNumberInvalid => "Skriv ett heltal.", "Enter a whole number.";
    DecisionsLead => "Välj ett hushåll för att se vad reglerna säger om varje tillval och vilka beställningar som nekats.", "Pick a household to see what the rules say about each add-on and which orders were refused.";
    DecisionsOf => "Beslut: {name}, {address}", "Decisions: {name}, {address}";
    ExplainTitle => "Vad som avgör varje tillval just nu", "What decides each add-on now";
    RuleSetName => "Regler: {name}", "Rules: {name}";
    GateOpen => "Hushållet kan beställa.", "The household may order.";
    GateClosed => "Hushållet kan inte beställa något:", "The household cannot order anything:";
    DecidedBy => "Avgjort av", "Decided by";
    Reasons => "Skäl", "Reasons";
    OptionAvailable => "Kan beställas", "May be ordered";
    OptionLockedByCart => "Spärrat av varukorgen", "Locked by the cart";
    OptionBlocked => "Spärrat", "Blocked";
    OptionRuleError => "Regelfel", "Rule error";
    LogTitle => "Nekade beställningar", "Refused orders";
    Action => "Handling", "Action";
    ActionAny => "Alla", "All";
    ActionCartAdd => "Lägga i varukorgen", "Add to cart";
    ActionSubmit => "Skicka beställning", "Send order";
    AllApartments => "Alla hyresgästens lägenheter", "All the tenant's apartments";
    Filter => "Filtrera", "Filter";
    NoDecisions => "Inga nekade beställningar.", "No refused orders.";
    When => "När", "When";
    Figures => "Fakta då", "Facts then";
    OlderDecisions => "Äldre", "Older";
    CodeInvalid => "En orsakskod har bara bokstäver, siffror och _ - . :", "A reason code has only letters, digits and _ - . :";
    Change => "Ändring", "Change";
    ReasonsNow => "Skäl nu", "Reasons now";
    ReasonsAfter => "Skäl med ändringen", "Reasons with the change";
    ExplainHousehold => "Förklara", "Explain";
    FirstHouseholds => "De första {n} hushållen", "The first {n} households";
}

impl Text {
    /// The text with `{name}` placeholders filled in.
    pub fn with(self, language: Language, params: &[(&str, &str)]) -> String {
        let mut text = self.get(language).to_owned();
        for (name, value) in params {
            text = text.replace(&format!("{{{name}}}"), value);
        }
        text
    }
}

/// "3 artiklar", "1 artikel": the cart's article count, short or as a sentence.
pub fn articles(language: Language, count: i64, sentence: bool) -> String {
    match (count, sentence) {
        (1, true) => Text::CartArticleOne.get(language).to_owned(),
        (1, false) => Text::CartArticleOneShort.get(language).to_owned(),
        (n, true) => Text::CartArticles.with(language, &[("n", &n.to_string())]),
        (n, false) => Text::CartArticlesShort.with(language, &[("n", &n.to_string())]),
    }
}

/// A case status in words.
pub fn status(code: &str, language: Language) -> &'static str {
    let text = match code {
        "SUBMITTED" => Text::StatusSubmitted,
        "UNDER_REVIEW" => Text::StatusUnderReview,
        "APPROVED" => Text::StatusApproved,
        "SCHEDULED" => Text::StatusScheduled,
        "INSTALLED" => Text::StatusInstalled,
        "REJECTED" => Text::StatusRejected,
        "CANCELLED" => Text::StatusCancelled,
        _ => return "–",
    };
    text.get(language)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_text_exists_in_both_languages_and_differs_where_it_should() {
        for text in Text::ALL {
            assert!(!text.get(Language::Sv).is_empty(), "{}", text.code());
            assert!(!text.get(Language::En).is_empty(), "{}", text.code());
        }
        assert_eq!(Text::Order.get(Language::Sv), "Beställ");
        assert_eq!(Text::Order.code(), "Order");
        assert_eq!(
            Text::CartArticles.with(Language::En, &[("n", "3")]),
            "Cart: 3 articles"
        );
        assert_eq!(status("UNDER_REVIEW", Language::Sv), "Granskas");
        assert_eq!(articles(Language::Sv, 1, false), "1 artikel");
        assert_eq!(articles(Language::Sv, 2, true), "Varukorgen: 2 artiklar");
        assert_eq!(status("<script>", Language::Sv), "–");
    }
}
